import type { ConnectorJob, InstanceState, Variables } from '../types.js';

/**
 * The engine's view of an instance's JSON state. Tokens are the whole truth: a token waits in
 * a task, a message, a timer, a join, a sub-process scope or an incident, so looking up a ref
 * is a scan of the (few) tokens, and nothing else needs to be kept in step.
 */
export interface EngineState extends InstanceState {
  /** Counter behind every ref and token id the instance hands out. */
  seq: number;
  tokens: Token[];
}

/** The root scope; a sub-process scope is identified by the id of the token that entered it. */
export const ROOT_SCOPE = 0;

export interface Token {
  readonly id: number;
  readonly scope: number;
  /** The element the token is at. */
  readonly el: string;
  /** The sequence flow it arrived by (joins count arrivals per flow). */
  readonly via: string | null;
  /** Null only while a step moves the token; every stored token waits. */
  readonly wait: Wait | null;
  /** Timer boundary events armed on the activity the token is in. */
  readonly timers: readonly BoundaryTimer[] | null;
}

export type Wait =
  | { readonly k: 'task'; readonly ref: string }
  | { readonly k: 'job'; readonly ref: string; readonly retries?: number }
  | { readonly k: 'message'; readonly ref: string }
  | { readonly k: 'timer'; readonly ref: string }
  | { readonly k: 'join' }
  | { readonly k: 'scope' }
  | IncidentWait;

/** Where to resume when an incident is retried. */
export type IncidentPhase = 'activate' | 'execute' | 'leave' | 'output';

export interface IncidentWait {
  readonly k: 'incident';
  readonly ref: string;
  readonly phase: IncidentPhase;
  /** The connector output whose mapping failed, for phase 'output'. */
  readonly output?: Variables;
  /**
   * The connector call that failed, for a connector incident: a retry calls it again under the
   * same job ref, and so the same idempotency key (a send the provider took is not sent twice).
   */
  readonly jobRef?: string;
  /** The failed job's incident retries: the retry's job counts one more (see ConnectorJob). */
  readonly retries?: number;
}

/**
 * `{ retries }` of a retried job, nothing for a call's first: the waits and effects of a call
 * never retried stay as they were written before retries were counted.
 */
export function retriesOf(job: ConnectorJob): { retries?: number } {
  return job.retries ? { retries: job.retries } : {};
}

/** Whether `wait` is for this job of a connector call; a job of an earlier retry is not awaited. */
export function waitsForJob(wait: Wait | null, job: ConnectorJob): boolean {
  return wait?.k === 'job' && wait.ref === job.jobRef && (wait.retries ?? 0) === (job.retries ?? 0);
}

export interface BoundaryTimer {
  readonly ref: string;
  /** The boundary event. */
  readonly el: string;
  readonly dueAt: string;
  readonly remaining: number | null;
  readonly period: string | null;
}
