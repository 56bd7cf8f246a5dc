import { completeConnectorTask } from '../behaviours/tasks.js';
import { CommandRejected, type Command, type ConnectorJob, type Variables } from '../types.js';
import type { Run } from './run.js';
import { retriesOf, waitsForJob, type BoundaryTimer, type Token, type Wait } from './state.js';

type Handlers = {
  [K in Exclude<Command['type'], 'start'>]: (
    run: Run,
    command: Extract<Command, { type: K }>,
  ) => void;
};

/** How each command moves an existing instance; `start` is handled by `step` itself. */
export const commandHandlers: Handlers = {
  completeTask(run, command) {
    const token = waitingOn(run, 'task', command.taskRef, 'task');
    run.mergeVariables(checkedVariables(command.variables));
    run.leave(run.update(token, { wait: null }));
  },

  triggerMessage(run, command) {
    const token = waitingOn(run, 'message', command.subscriptionRef, 'subscription');
    run.mergeVariables(checkedVariables(command.variables));
    run.leave(run.update(token, { wait: null }));
  },

  triggerTimer(run, command) {
    const caught = run.find(
      (token) => token.wait?.k === 'timer' && token.wait.ref === command.timerRef,
    );
    if (caught !== undefined) {
      run.leave(run.update(caught, { wait: null }));
      return;
    }
    const holder = run.find(
      (token) => token.timers?.some((timer) => timer.ref === command.timerRef) ?? false,
    );
    if (holder === undefined)
      throw new CommandRejected(
        'unknown-ref',
        `timer ${command.timerRef} is not armed in this instance`,
      );
    fireBoundaryTimer(
      run,
      holder,
      holder.timers!.find((timer) => timer.ref === command.timerRef)!,
    );
  },

  connectorResult(run, command) {
    const token = awaitingJob(run, command);
    if (command.ok) {
      completeConnectorTask(
        run,
        run.update(token, { wait: null }),
        checkedVariables(command.output),
      );
    } else {
      run.raiseIncident(token, 'connector', command.error, 'execute', {
        jobRef: command.jobRef,
        ...retriesOf(command),
      });
    }
  },

  retryIncident(run, command) {
    const token = run.find(
      (candidate) => candidate.wait?.k === 'incident' && candidate.wait.ref === command.incidentRef,
    );
    if (token === undefined || token.wait?.k !== 'incident') {
      throw new CommandRejected(
        'unknown-ref',
        `incident ${command.incidentRef} is not open in this instance`,
      );
    }
    const { phase, output, jobRef, retries } = token.wait;
    run.emit({ type: 'incidentResolved', incidentRef: command.incidentRef });
    run.mergeVariables(checkedVariables(command.variables ?? {}));
    const resumed = run.update(token, { wait: null });
    if (jobRef !== undefined) run.repeatCall(resumed, { jobRef, retries: (retries ?? 0) + 1 });
    if (phase === 'activate') run.activate(resumed);
    else if (phase === 'execute') run.execute(resumed);
    else if (phase === 'leave') run.leave(resumed);
    else completeConnectorTask(run, resumed, output ?? {});
  },

  cancel(run, command) {
    run.cancelInstance(command.reason);
  },
};

/** An interrupting timer cancels the activity; a non-interrupting one forks a token beside it. */
function fireBoundaryTimer(run: Run, holder: Token, timer: BoundaryTimer): void {
  const boundary = run.process.nodes.get(timer.el)!;
  if (boundary.boundary!.interrupting) {
    const others = holder.timers!.filter((armed) => armed.ref !== timer.ref);
    run.cancel(run.update(holder, { timers: others }));
  } else {
    run.rearmBoundaryTimer(holder, timer);
  }
  run.schedule('enter', run.createToken(holder.scope, boundary.id, null));
}

function awaitingJob(run: Run, job: ConnectorJob): Token {
  const token = run.find((candidate) => waitsForJob(candidate.wait, job));
  if (token === undefined) {
    const retry = job.retries ? ` of retry ${job.retries}` : '';
    throw new CommandRejected(
      'unknown-ref',
      `connector job ${job.jobRef}${retry} is not open in this instance`,
    );
  }
  return token;
}

function waitingOn(run: Run, kind: Wait['k'], ref: string, what: string): Token {
  const token = run.find(
    (candidate) =>
      candidate.wait?.k === kind && 'ref' in candidate.wait && candidate.wait.ref === ref,
  );
  if (token === undefined)
    throw new CommandRejected('unknown-ref', `${what} ${ref} is not open in this instance`);
  return token;
}

export function checkedVariables(variables: unknown): Variables {
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
    throw new CommandRejected('invalid-command', 'variables must be an object of name → value');
  }
  return variables as Variables;
}
