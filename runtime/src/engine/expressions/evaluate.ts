import { DateTime, Duration } from 'luxon';
import type { Variables } from '../types.js';
import type { Expression } from './expression.js';
import type { FeelOutcome } from './feel.js';
import { addDuration, parseDate, parseDuration, storableInstant } from './timer.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; message: string };

export function evaluateExpression(expression: Expression, variables: Variables): FeelOutcome {
  return expression.kind === 'literal'
    ? { ok: true, value: expression.value }
    : expression.evaluate(variables);
}

/** Evaluates to a string (numbers are written out), or null when absent. */
export function evaluateText(
  expression: Expression | null,
  variables: Variables,
  what: string,
): Outcome<string | null> {
  if (expression === null) return { ok: true, value: null };
  return then(evaluateExpression(expression, variables), (value) => {
    if (value === null || typeof value === 'string') return { ok: true, value };
    if (typeof value === 'number' || typeof value === 'boolean')
      return { ok: true, value: String(value) };
    return { ok: false, message: `${what} must be a text, got ${describe(value)}` };
  });
}

/** A comma-separated literal, or FEEL giving a list of texts or one comma-separated text. */
export function evaluateList(
  expression: Expression | null,
  variables: Variables,
  what: string,
): Outcome<string[]> {
  if (expression === null) return { ok: true, value: [] };
  return then(evaluateExpression(expression, variables), (value) => {
    if (value === null) return { ok: true, value: [] };
    if (typeof value === 'string') return { ok: true, value: splitList(value) };
    if (
      Array.isArray(value) &&
      value.every((item) => typeof item === 'string' || typeof item === 'number')
    ) {
      return { ok: true, value: value.map(String) };
    }
    return { ok: false, message: `${what} must be a list of texts, got ${describe(value)}` };
  });
}

export function evaluateInteger(
  expression: Expression | null,
  variables: Variables,
  fallback: number,
  what: string,
): Outcome<number> {
  if (expression === null) return { ok: true, value: fallback };
  return then(evaluateExpression(expression, variables), (value) => {
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (value === null) return { ok: true, value: fallback };
    if (typeof number === 'number' && Number.isInteger(number)) return { ok: true, value: number };
    return { ok: false, message: `${what} must be an integer, got ${describe(value)}` };
  });
}

/** A due instant from an ISO 8601 duration (counted from now) or date-time, literal or FEEL. */
export function evaluateDueDate(
  expression: Expression | null,
  variables: Variables,
  now: Date,
): Outcome<string | null> {
  if (expression === null) return { ok: true, value: null };
  return then(evaluateExpression(expression, variables), (value) => {
    if (value === null) return { ok: true, value: null };
    const due = dueInstant(value, now);
    if (due !== null) return { ok: true, value: due };
    return {
      ok: false,
      message: `due date must be an ISO 8601 duration or date-time ending before the year 10000, got ${JSON.stringify(toJsonValue(value))}`,
    };
  });
}

/** The instant a due date value names; null when it names none a database holds. */
function dueInstant(value: unknown, now: Date): string | null {
  if (Duration.isDuration(value)) return addDuration(now.toISOString(), value);
  if (DateTime.isDateTime(value)) return storableInstant(value);
  if (typeof value !== 'string') return null;
  const duration = parseDuration(value);
  return duration === null ? parseDate(value) : addDuration(now.toISOString(), duration);
}

/** FEEL values as JSON: temporal values become ISO 8601 texts, functions are dropped. */
export function toJsonValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object')
    return typeof value === 'function' ? null : value;
  if (DateTime.isDateTime(value)) return value.toISO();
  if (Duration.isDuration(value)) return value.toISO();
  if (Array.isArray(value)) return value.map(toJsonValue);
  const result: Variables = {};
  for (const [key, entry] of Object.entries(value)) result[key] = toJsonValue(entry);
  return result;
}

function then<T>(outcome: FeelOutcome, convert: (value: unknown) => Outcome<T>): Outcome<T> {
  return outcome.ok ? convert(outcome.value) : outcome;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  return value === null ? 'null' : typeof value;
}
