/**
 * The contract between the pure engine and the transactional shell (ARCHITECTURE §3).
 *
 *   compile(xml)                         → executable processes, or a list of problems
 *   step(process, state, command, now)   → { state, effects }
 *
 * The engine never awaits, never reads the clock (it gets `now`), never touches I/O.
 * Ids that the engine hands out (task, timer, subscription, job, incident refs) are
 * local to one instance ("t1", "tm2", ...) and deterministic: the shell makes them
 * global as `${instanceId}:${ref}`.
 */

export type Variables = Record<string, unknown>;

/** A reason a diagram cannot be deployed: one per offending element or attribute. */
export interface CompileProblem {
  elementId: string;
  type: string;
  reason: string;
}

/** Opaque, JSON-serialisable execution state of one process instance. */
export interface InstanceState {
  status: 'active' | 'completed' | 'terminated';
  variables: Variables;
  /** Engine-internal bookkeeping (tokens, scopes, join arrivals, counters, open incidents). */
  [internal: string]: unknown;
}

export interface TaskSpec {
  kind: 'user' | 'manual';
  name: string | null;
  assignee: string | null;
  candidateUsers: string[];
  candidateOffices: string[];
  /** ISO 8601 instant, computed from the due-date duration/FEEL at creation. */
  dueAt: string | null;
  priority: number;
  formKey: string | null;
}

/**
 * One job of a connector call. An incident retry repeats the call under the same `jobRef`, which
 * is what its idempotency key is made of, and counts itself in `retries` (absent: not retried).
 * The instance awaits the job of the latest retry only: an earlier job, delivered again after a
 * crash, must neither call with the input from before a person's correction nor report.
 */
export interface ConnectorJob {
  jobRef: string;
  retries?: number;
}

export type Command =
  | { type: 'start'; variables: Variables; businessKey?: string | null }
  | { type: 'completeTask'; taskRef: string; variables: Variables }
  | { type: 'triggerMessage'; subscriptionRef: string; variables: Variables }
  | { type: 'triggerTimer'; timerRef: string }
  | ({ type: 'connectorResult'; ok: true; output: Variables } & ConnectorJob)
  | ({ type: 'connectorResult'; ok: false; error: string } & ConnectorJob)
  /** `variables` (optional) are merged before the retry, to fix what the failing expression read. */
  | { type: 'retryIncident'; incidentRef: string; variables?: Variables }
  | { type: 'cancel'; reason: string };

export type Effect =
  | { type: 'createTask'; taskRef: string; elementId: string; task: TaskSpec }
  | { type: 'cancelTask'; taskRef: string }
  | {
      type: 'scheduleTimer';
      timerRef: string;
      elementId: string;
      dueAt: string;
    }
  | { type: 'cancelTimer'; timerRef: string }
  | {
      type: 'subscribe';
      subscriptionRef: string;
      elementId: string;
      messageName: string;
      correlationKey: string | null;
    }
  | { type: 'unsubscribe'; subscriptionRef: string }
  | ({
      type: 'invokeConnector';
      elementId: string;
      connectorType: string;
      input: Variables;
    } & ConnectorJob)
  | {
      type: 'incident';
      incidentRef: string;
      elementId: string;
      incidentType: 'condition' | 'expression' | 'connector' | 'internal';
      message: string;
    }
  | { type: 'incidentResolved'; incidentRef: string }
  | { type: 'ended'; status: 'completed' | 'terminated' }
  | {
      type: 'history';
      event:
        | 'elementStarted'
        | 'elementCompleted'
        | 'elementCancelled'
        | 'processStarted'
        | 'processCompleted'
        | 'processTerminated'
        | 'variablesChanged';
      elementId: string | null;
      elementType: string | null;
      data?: Variables;
    };

export interface StepResult {
  state: InstanceState;
  effects: Effect[];
}

/** Thrown by `step` for a command that does not fit the state (unknown ref, ended instance). */
export class CommandRejected extends Error {
  constructor(
    readonly code: 'unknown-ref' | 'instance-ended' | 'invalid-command',
    message: string,
  ) {
    super(message);
    this.name = 'CommandRejected';
  }
}
