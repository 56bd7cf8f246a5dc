/** Turns zod failures into a 400 problem that names every offending field. */
import type { z } from 'zod';
import { BadRequestError } from '../../errors.js';

export type RequestPart = 'body' | 'query' | 'path' | 'header';

export interface FieldProblem {
  path: string;
  reason: string;
}

export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: RequestPart,
): z.output<S> {
  const nul = withNul(value, [part]);
  if (nul.length > 0) refuse(part, nul);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems: FieldProblem[] = result.error.issues.flatMap((issue) => {
    const at = [part, ...issue.path.map(String)];
    // One problem per unknown field, named where it is, rather than one on the object.
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...at, key].join('.'), reason: 'unknown field' }));
    return [{ path: at.join('.'), reason: issue.message }];
  });
  refuse(part, problems);
}

function refuse(part: RequestPart, problems: FieldProblem[]): never {
  const summary = problems.map((p) => `${p.path}: ${p.reason}`).join('; ');
  throw new BadRequestError('invalid-request', `invalid ${part}: ${summary}`, { problems });
}

/**
 * Every string holding U+0000, by where it is: no field means one, and neither database takes
 * it (SQLite stops reading the statement at it, PostgreSQL refuses the text), so it would be a
 * 500, or a value cut short, instead of a refusal naming the field.
 */
function withNul(value: unknown, at: string[]): FieldProblem[] {
  if (typeof value === 'string')
    return value.includes('\u0000')
      ? [{ path: at.join('.'), reason: 'must not contain the NUL character' }]
      : [];
  if (Array.isArray(value))
    return value.flatMap((item, index) => withNul(item, [...at, String(index)]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => [
      ...(key.includes('\u0000')
        ? [{ path: [...at, key].join('.'), reason: 'must not contain the NUL character' }]
        : []),
      ...withNul(item, [...at, key]),
    ]);
  return [];
}
