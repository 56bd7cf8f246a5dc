/**
 * Remembers for a short while that a password matched a stored hash, so
 * clients that send HTTP Basic on every request (Camunda Modeler, scripts)
 * do not pay a full scrypt each time. The key includes the stored hash: a
 * changed password misses the cache at once.
 */
import { createHash } from 'node:crypto';
import { verifyPassword } from './passwords.js';

export class VerifiedPasswords {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 1000,
  ) {}

  async verify(password: string, stored: string, now = Date.now()): Promise<boolean> {
    const key = createHash('sha256').update(stored).update('\0').update(password).digest('hex');
    const expires = this.entries.get(key);
    if (expires !== undefined && expires > now) return true;
    const ok = await verifyPassword(password, stored);
    if (ok) this.remember(key, now + this.ttlMs);
    return ok;
  }

  private remember(key: string, expires: number): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, expires);
  }
}
