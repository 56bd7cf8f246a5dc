/**
 * API tokens: random secrets shown to their owner once. Only the SHA-256 is
 * stored, so a leaked database does not leak usable tokens; a fast hash is
 * enough because the secret has 256 bits of entropy.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'pct_';

export function generateToken(): { token: string; tokenHash: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, tokenHash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX);
}
