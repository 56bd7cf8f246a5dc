/** The lockout a login earns by wrong passwords in a row: when it starts, how it grows, what ends it. */
import { describe, expect, it } from 'vitest';
import { LoginThrottle, LoginThrottledError } from '../../../src/auth/login-throttle.js';

/** The wait `check` asks for, in seconds; 0 when the login may try. */
function waitOf(throttle: LoginThrottle, login: string): number {
  try {
    throttle.check(login);
    return 0;
  } catch (error) {
    expect(error).toBeInstanceOf(LoginThrottledError);
    return (error as LoginThrottledError).retryAfterMs / 1000;
  }
}

describe('LoginThrottle', () => {
  it('lets ten wrong passwords by, then locks the login for 30 s, doubling up to 15 minutes', () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now);
    for (let failure = 1; failure <= 10; failure++) {
      throttle.failed('carla');
      expect(waitOf(throttle, 'carla')).toBe(0);
    }
    const windows: number[] = [];
    for (let failure = 11; failure <= 18; failure++) {
      throttle.failed('carla');
      const wait = waitOf(throttle, 'carla');
      windows.push(wait);
      now += wait * 1000; // the next guess comes as soon as it may
      expect(waitOf(throttle, 'carla')).toBe(0);
    }
    expect(windows).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
    // Another login is not held up by this one.
    expect(waitOf(throttle, 'mario')).toBe(0);
  });

  it('forgets the failures once the right password is given', () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now);
    for (let failure = 1; failure <= 11; failure++) throttle.failed('carla');
    now += 30_000;
    throttle.succeeded('carla');
    throttle.failed('carla');
    expect(waitOf(throttle, 'carla')).toBe(0);
  });
});
