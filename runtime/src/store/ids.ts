import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. New rows
 * land at the right edge of every index keyed by it, so a commit dirties a few pages
 * instead of one random page per row and index. The random part comes from
 * `randomUUID`, which draws from a cached entropy pool.
 */
export function uuidv7(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
