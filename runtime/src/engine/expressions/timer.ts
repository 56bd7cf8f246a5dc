import { DateTime, Duration } from 'luxon';

export type TimerKind = 'duration' | 'date' | 'cycle';

/** One planned firing of a timer; `remaining` counts the firings after it (null: unbounded cycle). */
export interface TimerFiring {
  dueAt: string;
  remaining: number | null;
  period: string | null;
}

export type TimerOutcome = { ok: true; firing: TimerFiring } | { ok: false; message: string };

const CYCLE = /^R(\d*)\/(.+)$/;

/** The reason an ISO 8601 timer value is invalid for its kind, or null when it is valid. */
export function timerValueError(kind: TimerKind, value: string): string | null {
  const outcome = firstFiring(kind, value, new Date(0));
  return outcome.ok ? null : outcome.message;
}

/**
 * Plans the first firing of a timer. `value` is the ISO 8601 text from the diagram, or a FEEL
 * result (a string, or the luxon duration/date-time feelin returns for temporal values).
 */
export function firstFiring(kind: TimerKind, value: unknown, now: Date): TimerOutcome {
  const text = temporalText(value);
  if (text === null)
    return { ok: false, message: `timer ${kind} must be an ISO 8601 text, got ${describe(value)}` };
  if (kind === 'duration') {
    const duration = parseDuration(text);
    if (duration === null) return invalid(kind, text, 'an ISO 8601 duration such as PT1H or P3D');
    const dueAt = addDuration(now.toISOString(), duration);
    if (dueAt === null) return invalid(kind, text, PAST_9999);
    return { ok: true, firing: { dueAt, remaining: 0, period: null } };
  }
  if (kind === 'date') {
    const date = parseDate(text);
    if (date === null)
      return invalid(kind, text, 'an ISO 8601 date-time such as 2030-01-31T09:00:00Z');
    return { ok: true, firing: { dueAt: date, remaining: 0, period: null } };
  }
  return firstCycleFiring(text, now);
}

/** The firing after `firing` for a cycle, or null when the cycle is exhausted. */
export function nextFiring(firing: TimerFiring): TimerFiring | null {
  if (firing.period === null || firing.remaining === 0) return null;
  const period = Duration.fromISO(firing.period);
  const dueAt = addDuration(firing.dueAt, period);
  // A cycle whose next firing falls past the year 9999 has run its course.
  if (dueAt === null) return null;
  return {
    dueAt,
    remaining: firing.remaining === null ? null : firing.remaining - 1,
    period: firing.period,
  };
}

/**
 * Adds an ISO 8601 duration to an instant (used for task due dates too); null when the result is
 * no instant both databases hold (past the year 9999, or beyond what luxon counts: P999999999Y
 * gave an invalid date, stored as no due date, and the timer fired at once).
 */
export function addDuration(instant: string, duration: Duration): string | null {
  return storableInstant(DateTime.fromISO(instant, { zone: 'utc' }).plus(duration));
}

/** The instant as ISO 8601 UTC, or null when it is invalid or outside the years 1 to 9999. */
export function storableInstant(time: DateTime): string | null {
  if (!time.isValid) return null;
  const utc = time.toUTC();
  return utc.year >= 1 && utc.year <= 9999 ? utc.toISO() : null;
}

const PAST_9999 = 'a value that ends before the year 10000';

export function parseDuration(text: string): Duration | null {
  if (!text.startsWith('P')) return null;
  const duration = Duration.fromISO(text);
  return duration.isValid ? duration : null;
}

/** An ISO 8601 date-time as a UTC instant; a value without offset is read as UTC. */
export function parseDate(text: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  const date = DateTime.fromISO(text, { zone: 'utc' });
  return date.isValid ? date.toUTC().toISO() : null;
}

function firstCycleFiring(text: string, now: Date): TimerOutcome {
  const match = CYCLE.exec(text);
  const expected = 'an ISO 8601 repeating interval such as R3/PT1H or R/2030-01-01T09:00:00Z/P1D';
  if (match === null) return invalid('cycle', text, expected);
  const [, countText, rest] = match as unknown as [string, string, string];
  const count = countText === '' ? null : Number(countText);
  if (count === 0) return invalid('cycle', text, 'a repetition count of at least 1');
  const parts = rest.split('/');
  const periodText = parts.length === 1 ? parts[0]! : parts[1]!;
  const start = parts.length === 2 ? parseDate(parts[0]!) : null;
  const period = parseDuration(periodText);
  if (parts.length > 2 || period === null || (parts.length === 2 && start === null)) {
    return invalid('cycle', text, expected);
  }
  const dueAt = start ?? addDuration(now.toISOString(), period);
  if (dueAt === null) return invalid('cycle', text, PAST_9999);
  return {
    ok: true,
    firing: { dueAt, remaining: count === null ? null : count - 1, period: periodText },
  };
}

function temporalText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim();
  if (DateTime.isDateTime(value) || Duration.isDuration(value)) return value.toISO();
  return null;
}

function invalid(kind: TimerKind, text: string, expected: string): TimerOutcome {
  return { ok: false, message: `invalid timer ${kind} "${text}": expected ${expected}` };
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
