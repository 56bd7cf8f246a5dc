/**
 * Password guessing, slowed down: after FREE_FAILURES wrong passwords in a row for one login,
 * each further try within a lockout window is refused with 429 before any password is checked,
 * the window doubling from 30 s up to 15 minutes; a right password after a window resets the
 * count. Passwords may be as short as four characters and `pectrack demo` makes demo/demo, so
 * without this a login could be guessed at the speed of the password hash.
 *
 * Kept in the memory of each node: several nodes each allow their own share, and a restart
 * forgets. That bounds guessing without a table written at every failed request.
 */
import { PecTrackError } from '../errors.js';

const FREE_FAILURES = 10;
const FIRST_LOCKOUT_MS = 30_000;
const LONGEST_LOCKOUT_MS = 15 * 60_000;
/** Logins followed at most: past it the oldest is forgotten (a flood of made-up names). */
const MAX_LOGINS = 10_000;

export class LoginThrottledError extends PecTrackError {
  constructor(readonly retryAfterMs: number) {
    super(
      'login-throttled',
      429,
      `too many wrong passwords for this login: try again in ${Math.ceil(retryAfterMs / 1000)} s`,
      { retryAfterMs },
    );
  }
}

interface Failures {
  count: number;
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws LoginThrottledError while `login` is locked out. */
  check(login: string): void {
    const entry = this.failures.get(login);
    const wait = entry ? entry.lockedUntil - this.now() : 0;
    if (wait > 0) throw new LoginThrottledError(wait);
  }

  failed(login: string): void {
    const entry = this.failures.get(login) ?? { count: 0, lockedUntil: 0 };
    entry.count += 1;
    const over = entry.count - FREE_FAILURES;
    if (over > 0)
      entry.lockedUntil =
        this.now() + Math.min(LONGEST_LOCKOUT_MS, FIRST_LOCKOUT_MS * 2 ** (over - 1));
    this.failures.delete(login);
    this.failures.set(login, entry);
    if (this.failures.size > MAX_LOGINS)
      this.failures.delete(this.failures.keys().next().value as string);
  }

  succeeded(login: string): void {
    this.failures.delete(login);
  }
}
