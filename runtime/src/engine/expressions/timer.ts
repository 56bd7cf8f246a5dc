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
    return {
      ok: true,
      firing: { dueAt: addDuration(now.toISOString(), duration), remaining: 0, period: null },
    };
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
  return {
    dueAt: addDuration(firing.dueAt, period),
    remaining: firing.remaining === null ? null : firing.remaining - 1,
    period: firing.period,
  };
}

/** Adds an ISO 8601 duration to an instant (used for task due dates too). */
export function addDuration(instant: string, duration: Duration): string {
  return DateTime.fromISO(instant, { zone: 'utc' }).plus(duration).toUTC().toISO()!;
}

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
