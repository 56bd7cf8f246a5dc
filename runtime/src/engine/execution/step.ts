import { atInstant } from '../expressions/clock.js';
import type { ExecutableProcess } from '../model/graph.js';
import {
  CommandRejected,
  type Command,
  type ConnectorJob,
  type InstanceState,
  type StepResult,
} from '../types.js';
import { checkedVariables, commandHandlers } from './commands.js';
import { Run } from './run.js';
import { ROOT_SCOPE, waitsForJob, type EngineState } from './state.js';

/**
 * Applies one command to one instance and runs it to its next wait state. Pure: the same
 * process, state, command and `now` always give the same result; nothing is read or written.
 */
export function step(
  process: ExecutableProcess,
  state: InstanceState | null,
  command: Command,
  now: Date,
): StepResult {
  return atInstant(now, () => apply(process, state, command, now));
}

function apply(
  process: ExecutableProcess,
  state: InstanceState | null,
  command: Command,
  now: Date,
): StepResult {
  if (command.type === 'start') {
    if (state !== null)
      throw new CommandRejected('invalid-command', 'the instance has already started');
    return start(process, command, now);
  }
  if (state === null)
    throw new CommandRejected('invalid-command', `${command.type} needs a started instance`);
  if (state.status !== 'active')
    throw new CommandRejected('instance-ended', `the instance has ${state.status}`);
  if (!isEngineState(state)) {
    throw new CommandRejected('invalid-command', 'the stored state is not an engine state');
  }
  const run = new Run(process, state, now);
  const handle = commandHandlers[command.type] as (run: Run, command: Command) => void;
  handle(run, command);
  run.drain();
  return { state: run.toState(), effects: run.effects };
}

function start(
  process: ExecutableProcess,
  command: Extract<Command, { type: 'start' }>,
  now: Date,
): StepResult {
  const variables = { ...checkedVariables(command.variables) };
  const run = new Run(process, { status: 'active', variables, seq: 0, tokens: [] }, now);
  const businessKey = command.businessKey ?? null;
  run.history('processStarted', null, businessKey === null ? undefined : { businessKey });
  run.schedule('enter', run.createToken(ROOT_SCOPE, process.startEventId, null));
  run.drain();
  return { state: run.toState(), effects: run.effects };
}

function isEngineState(state: InstanceState): state is EngineState {
  return Array.isArray(state.tokens) && typeof state.seq === 'number';
}

/** Whether an active instance still waits for the result of this connector job. */
export function awaitsJob(state: InstanceState, job: ConnectorJob): boolean {
  if (state.status !== 'active' || !isEngineState(state)) return false;
  return state.tokens.some((token) => waitsForJob(token.wait, job));
}
