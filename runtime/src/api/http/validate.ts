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
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems: FieldProblem[] = result.error.issues.flatMap((issue) => {
    const at = [part, ...issue.path.map(String)];
    // One problem per unknown field, named where it is, rather than one on the object.
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...at, key].join('.'), reason: 'unknown field' }));
    return [{ path: at.join('.'), reason: issue.message }];
  });
  const summary = problems.map((p) => `${p.path}: ${p.reason}`).join('; ');
  throw new BadRequestError('invalid-request', `invalid ${part}: ${summary}`, { problems });
}
