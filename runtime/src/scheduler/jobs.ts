/**
 * Agenda job handlers: a timer fires `triggerTimer`; a connector job calls the connector
 * and reports `connectorResult`. Both are safe to run twice: the engine rejects a ref
 * that no longer waits, and the services treat that as already handled.
 */
import type { Agenda, Job } from 'agenda';
import { exponential } from 'agenda';
import type { Variables } from '../engine/types.js';
import type { InternalCommands } from '../services/index.js';
import type { ConnectorRegistry } from './connectors.js';

export const TIMER_JOB = 'pectrack.timer';
export const CONNECTOR_JOB = 'pectrack.connector';

export interface TimerJobData {
  key: string;
  /** `${instanceId}:${timerRef}`: what cancelTimer removes. */
  timer: string;
  tenantId: string;
  instanceId: string;
  timerRef: string;
}

export interface ConnectorJobData {
  key: string;
  tenantId: string;
  instanceId: string;
  jobRef: string;
  elementId: string;
  connectorType: string;
  input: Variables;
  /**
   * Failed attempts before the last deferral. Agenda forgets its failure count when a run
   * succeeds, which is how a deferral ends (see runConnector); without this, failures between
   * deferrals would never add up to an incident.
   */
  failuresBeforeDeferral?: number;
}

export interface JobSettings {
  lockLifetimeMs: number;
  connectorTimeoutMs: number;
  connectorAttempts: number;
  connectorBackoffMs: number;
}

export function defineJobs(
  agenda: Agenda,
  internal: InternalCommands,
  connectors: ConnectorRegistry,
  settings: JobSettings,
): void {
  agenda.define<TimerJobData>(
    TIMER_JOB,
    async (job) => {
      const { tenantId, instanceId, timerRef } = job.attrs.data;
      await internal.triggerTimer(tenantId, instanceId, timerRef);
    },
    {
      lockLifetime: settings.lockLifetimeMs,
      backoff: exponential({ delay: 1_000, maxDelay: 60_000, maxRetries: 20 }),
      // A timer redelivered after removal fires `triggerTimer` for a ref the engine no longer
      // arms, which is a no-op; connector jobs stay, their row is what stops a second call.
      removeOnComplete: true,
    },
  );
  agenda.define<ConnectorJobData>(
    CONNECTOR_JOB,
    (job) => runConnector(job, internal, connectors, settings),
    {
      lockLifetime: Math.max(settings.lockLifetimeMs, settings.connectorTimeoutMs * 2),
      backoff: exponential({
        delay: settings.connectorBackoffMs,
        factor: 2,
        maxRetries: settings.connectorAttempts,
      }),
    },
  );
}

/** A failure is retried by Agenda's backoff; the last attempt's failure becomes an incident instead. */
async function runConnector(
  job: Job<ConnectorJobData>,
  internal: InternalCommands,
  connectors: ConnectorRegistry,
  settings: JobSettings,
): Promise<void> {
  const data = job.attrs.data;
  // A call its instance no longer waits for (cancelled, or an interrupting boundary event took
  // the task) is not made: a send task of a withdrawn case must not certify its message.
  if (!(await internal.awaitsJob(data.tenantId, data.instanceId, data.jobRef))) return;
  const failures = (data.failuresBeforeDeferral ?? 0) + (job.attrs.failCount ?? 0);
  const attempt = failures + 1;
  let result: { ok: true; output: Variables } | { ok: false; error: string };
  try {
    result = {
      ok: true,
      output: await call(data, attempt, connectors, settings.connectorTimeoutMs),
    };
  } catch (error) {
    const later = boundedMsOf(error, 'retryAfterMs');
    if (later !== undefined) {
      // Asked to be called again later (a rate limit, a sending pace): not a failure.
      await runAgainIn(job, failures, later);
      return;
    }
    if (attempt < settings.connectorAttempts && !isFinal(error)) {
      const notBefore = boundedMsOf(error, 'retryNotBeforeMs');
      if (notBefore === undefined) throw error;
      // Counted as the failure it is, but tried again no sooner than the far side said, the
      // way a deferral is run again.
      const backoff = settings.connectorBackoffMs * 2 ** failures;
      await runAgainIn(job, failures + 1, Math.max(notBefore, backoff));
      return;
    }
    result = {
      ok: false,
      error: `${data.connectorType} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${(error as Error).message}`,
    };
  }
  await internal.connectorResult(data.tenantId, data.instanceId, data.jobRef, result);
}

/**
 * The run ends as a success with its next run set, so Agenda's failure count, and with it the
 * incident at the last attempt, stay out of it: the failures so far are carried in the job's
 * data, saved here (after a run Agenda saves only the job's state).
 */
async function runAgainIn(
  job: Job<ConnectorJobData>,
  failures: number,
  delayMs: number,
): Promise<void> {
  job.attrs.data = { ...job.attrs.data, failuresBeforeDeferral: failures };
  job.attrs.nextRunAt = new Date(Date.now() + delayMs);
  await job.save();
}

/** The SDK's ConnectorError `retryAfterMs` or `retryNotBeforeMs`, bounded to an hour; undefined for any other error. */
function boundedMsOf(
  error: unknown,
  field: 'retryAfterMs' | 'retryNotBeforeMs',
): number | undefined {
  const ms = (error as Record<string, unknown> | null)?.[field];
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, 3_600_000);
}

/** A handler marks a failure that would repeat (invalid input, a refused request) with `retryable: false`. */
function isFinal(error: unknown): boolean {
  return (error as { retryable?: unknown } | null)?.retryable === false;
}

/**
 * The key a connector sees for one call: the same for every attempt of it, and for its retry
 * from an incident (the engine calls it again under the same job ref), so a handler that keys
 * its side effect on it (a certified send) does it once. The job's own key (`data.key`, from the
 * outbox row) changes at each retry; the instance and the job ref say which call it is.
 */
export function connectorCallKey(data: Pick<ConnectorJobData, 'instanceId' | 'jobRef'>): string {
  return `connector:${data.instanceId}:${data.jobRef}`;
}

async function call(
  data: ConnectorJobData,
  attempt: number,
  connectors: ConnectorRegistry,
  timeoutMs: number,
): Promise<Variables> {
  const handler = connectors.get(data.connectorType);
  if (!handler) throw new Error(`no connector of type "${data.connectorType}" is installed`);
  const signal = AbortSignal.timeout(timeoutMs);
  return handler(data.input, {
    signal,
    idempotencyKey: connectorCallKey(data),
    tenantId: data.tenantId,
    instanceId: data.instanceId,
    elementId: data.elementId,
    attempt,
  });
}
