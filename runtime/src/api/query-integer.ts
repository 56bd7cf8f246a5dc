/** The one way an integer is read from a query string or a path, on /api/v1 and /engine-rest. */
import { z } from 'zod';

const DECIMAL_INTEGER = /^-?[0-9]+$/;

/**
 * An integer of a query string or a path, then checked by `bounds` (which may make it optional
 * or give it a default): plain decimal digits only. z.coerce.number read a blank `?offset=` as
 * 0 and took ' 5 ', '0x10', '1e2' and '5.0' for numbers; a client sending those meant
 * something else, and hears so.
 */
export function queryInteger<T extends z.ZodType<number | undefined>>(bounds: T) {
  return z.preprocess((value, ctx) => {
    if (value === undefined) return value;
    if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) return Number(value);
    ctx.addIssue({
      code: 'custom',
      message: 'must be an integer written in decimal digits',
      input: value,
    });
    return z.NEVER;
  }, bounds);
}
