/**
 * Agenda job handlers: a timer fires `triggerTimer`; a connector job calls the connector
 * and reports `connectorResult`. Both are safe to run twice: the engine rejects a ref
 * that no longer waits, and the services treat that as already handled.
 */
import type { Agenda, Job } from 'agenda';
import { exponential } from 'agenda';
import type { Variables } from '../engine/types.js';
import { BadRequestError } from '../errors.js';
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
  /** Incident retries of the call before this job: see ConnectorJob. */
  retries?: number;
  elementId: string;
  connectorType: string;
  input: Variables;
  /**
   * Failed attempts before the last deferral. Agenda forgets its failure count when a run
   * succeeds, which is how a deferral ends (see runAgainIn); without this, failures between
   * deferrals would never add up to an incident.
   */
  failuresBeforeDeferral?: number;
  /**
   * The connector's answer, when storing it failed: later runs store it instead of calling again
   * (see storeAnswer).
   */
  answer?: Variables;
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
  // A call ends by its timeout at the latest, so twice that leaves the answer time to be stored.
  const lockLifetime = Math.max(settings.lockLifetimeMs, settings.connectorTimeoutMs * 2);
  agenda.define<ConnectorJobData>(
    CONNECTOR_JOB,
    (job) =>
      holdingLock(job, lockLifetime, () => runConnector(job, internal, connectors, settings)),
    {
      lockLifetime,
      backoff: exponential({
        delay: settings.connectorBackoffMs,
        factor: 2,
        maxRetries: settings.connectorAttempts,
      }),
    },
  );
}

/**
 * Renews the job's lock while the run lasts: the call is bounded by its timeout, but storing its
 * answer may queue behind a busy database, and a lock that ran out would let Agenda start the job
 * again beside this run. A renewal that fails leaves the lock to run out as it would have.
 */
async function holdingLock(
  job: Job,
  lockLifetimeMs: number,
  run: () => Promise<void>,
): Promise<void> {
  let renewing: Promise<void> = Promise.resolve();
  const renewal = setInterval(() => {
    renewing = job.touch().catch(() => undefined);
  }, lockLifetimeMs / 2);
  try {
    await run();
  } finally {
    clearInterval(renewal);
    // A renewal landing after the run's end would write back the job state it saw then.
    await renewing;
  }
}

/**
 * One attempt: call the connector (or take the answer a run before could not store), then store
 * what came of it. A failure is retried by Agenda's backoff; the last attempt's failure becomes
 * an incident instead.
 */
async function runConnector(
  job: Job<ConnectorJobData>,
  internal: InternalCommands,
  connectors: ConnectorRegistry,
  settings: JobSettings,
): Promise<void> {
  const data = job.attrs.data;
  // A call its instance no longer waits for (cancelled, an interrupting boundary event took the
  // task, or a person retried it from its incident, which awaits a newer job) is not made: a send
  // task of a withdrawn case must not certify its message, nor a stale job undo a correction.
  if (!(await internal.awaitsJob(data.tenantId, data.instanceId, data))) return;
  const failures = (data.failuresBeforeDeferral ?? 0) + (job.attrs.failCount ?? 0);
  let answer = data.answer;
  if (answer === undefined) {
    try {
      answer = await call(data, failures + 1, connectors, settings.connectorTimeoutMs);
    } catch (error) {
      await afterFailure(job, internal, error, failures, settings);
      return;
    }
  }
  await storeAnswer(job, internal, answer, failures, settings);
}

/** A failed call is deferred, retried, or, when final or the last attempt, the incident. */
async function afterFailure(
  job: Job<ConnectorJobData>,
  internal: InternalCommands,
  error: unknown,
  failures: number,
  settings: JobSettings,
): Promise<void> {
  const data = job.attrs.data;
  const later = boundedMsOf(error, 'retryAfterMs');
  if (later !== undefined) {
    // Asked to be called again later (a rate limit, a sending pace): not a failure.
    await runAgainIn(job, failures, later);
    return;
  }
  const attempt = failures + 1;
  if (attempt < settings.connectorAttempts && !isFinal(error)) {
    const notBefore = boundedMsOf(error, 'retryNotBeforeMs');
    if (notBefore === undefined) throw error;
    // Counted as the failure it is, but tried again no sooner than the far side said, the
    // way a deferral is run again.
    await runAgainIn(job, failures + 1, Math.max(notBefore, backoffMs(settings, failures)));
    return;
  }
  await internal.connectorResult(data.tenantId, data.instanceId, data, {
    ok: false,
    error: `${data.connectorType} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${(error as Error).message}`,
  });
}

/**
 * Storing an answer can fail where the call did not (the database is away, or refuses the value),
 * and calling again for an answer already given could repeat its side effect. The answer is kept
 * in the job, and a later run stores it without calling; when the attempts are spent, the engine
 * refuses the answer itself, or the job cannot be saved either, the incident says the answer could
 * not be stored. Only if that cannot be written either, and the answer was never kept, does a
 * later run call again, under the same idempotency key, as after a crash.
 */
async function storeAnswer(
  job: Job<ConnectorJobData>,
  internal: InternalCommands,
  answer: Variables,
  failures: number,
  settings: JobSettings,
): Promise<void> {
  const data = job.attrs.data;
  try {
    await internal.connectorResult(data.tenantId, data.instanceId, data, {
      ok: true,
      output: answer,
    });
    return;
  } catch (error) {
    const again = failures + 1 < settings.connectorAttempts && !(error instanceof BadRequestError);
    if (again && (await kept(job, answer, failures + 1, backoffMs(settings, failures)))) return;
    await internal.connectorResult(data.tenantId, data.instanceId, data, {
      ok: false,
      error: `${data.connectorType} answered, but its answer could not be stored: ${(error as Error).message}`,
    });
  }
}

/** Keeps the answer in the job for its next run; false when the job could not be saved. */
async function kept(
  job: Job<ConnectorJobData>,
  answer: Variables,
  failures: number,
  delayMs: number,
): Promise<boolean> {
  try {
    await runAgainIn(job, failures, delayMs, answer);
    return true;
  } catch {
    return false;
  }
}

/**
 * The run ends as a success with its next run set, so Agenda's failure count, and with it the
 * incident at the last attempt, stay out of it: the failures so far (and an answer still to be
 * stored) are carried in the job's data, saved here (after a run Agenda saves only the job's
 * state).
 */
async function runAgainIn(
  job: Job<ConnectorJobData>,
  failures: number,
  delayMs: number,
  answer?: Variables,
): Promise<void> {
  job.attrs.data = {
    ...job.attrs.data,
    failuresBeforeDeferral: failures,
    ...(answer !== undefined && { answer }),
  };
  job.attrs.nextRunAt = new Date(Date.now() + delayMs);
  await job.save();
}

/** Agenda's own backoff after `failures` failures, for the runs this module schedules itself. */
function backoffMs(settings: JobSettings, failures: number): number {
  return settings.connectorBackoffMs * 2 ** failures;
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
 * The key a connector sees for one call: the same for every attempt of it, and for its retries
 * from an incident (the engine calls it again under the same job ref), so a handler that keys
 * its side effect on it (a certified send) does it once, and a send the provider certainly did
 * not take can be replaced by the corrected one. The job's own key (`data.key`, from the outbox
 * row) changes at each retry; the instance and the job ref say which call it is.
 */
export function connectorCallKey(data: Pick<ConnectorJobData, 'instanceId' | 'jobRef'>): string {
  return `connector:${data.instanceId}:${data.jobRef}`;
}

/**
 * The handler gets the timeout as its signal, and is waited for no longer: one that ignores the
 * signal (a client library without abort support) would otherwise hold the job past its lock,
 * and Agenda would start the call again beside it. The abandoned call may still answer; nothing
 * waits for it, so its answer is never applied.
 */
async function call(
  data: ConnectorJobData,
  attempt: number,
  connectors: ConnectorRegistry,
  timeoutMs: number,
): Promise<Variables> {
  const handler = connectors.get(data.connectorType);
  if (!handler) throw new Error(`no connector of type "${data.connectorType}" is installed`);
  const signal = AbortSignal.timeout(timeoutMs);
  return Promise.race([
    handler(data.input, {
      signal,
      idempotencyKey: connectorCallKey(data),
      tenantId: data.tenantId,
      instanceId: data.instanceId,
      elementId: data.elementId,
      attempt,
    }),
    timedOut(signal, timeoutMs),
  ]);
}

/** Fails when `signal` fires, as a retryable failure like any other. */
function timedOut(signal: AbortSignal, timeoutMs: number): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener(
      'abort',
      () =>
        reject(
          Object.assign(new Error(`no answer within ${timeoutMs} ms`), {
            code: 'CONNECTOR_TIMEOUT',
          }),
        ),
      { once: true },
    );
  });
}
