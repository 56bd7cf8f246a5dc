/** How a watching session waits between sync passes, and what ends the wait early. */
import type { ImapFlow } from 'imapflow';

/**
 * A latch a session waits on between polls; `wake()` ends the wait early. A wake with nobody
 * waiting (new mail or "sync now" while a pass runs) is remembered and ends the next wait at
 * once: that pass may have listed its folders before the mail arrived.
 */
export class Wakeup {
  private waiters = new Set<() => void>();
  private pending = false;

  wake(): void {
    if (this.waiters.size === 0) {
      this.pending = true;
      return;
    }
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }

  /** Resolves at the next wake; aborting `cancel` stops waiting without taking that wake. */
  wait(cancel?: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.add(resolve);
      cancel?.addEventListener('abort', () => this.waiters.delete(resolve), { once: true });
    });
  }
}

export interface WaitOptions {
  signal?: AbortSignal;
  wakeup: Wakeup;
}

/**
 * Resolves on a wake-up (new mail announced by IDLE reaches it as one), the poll interval, or
 * the end of the session; rejects when the connection closes so the caller reconnects, also
 * when it closed before the wait began (while the last batch committed): otherwise the session
 * would sit on a dead connection, without IDLE, until the next poll.
 */
export function waitForActivity(
  client: ImapFlow,
  pollMs: number,
  options: WaitOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = () =>
      finish(Object.assign(new Error('IMAP connection closed'), { code: 'ConnectionClosed' }));
    const finish = settleOnce(pollMs, options, (error) => {
      client.off('close', onClose);
      if (error) reject(error);
      else resolve();
    });
    client.on('close', onClose);
    if (!client.usable) onClose();
  });
}

/** Waits `ms` (a reconnect backoff), or less when the session is woken or ends. */
export function pause(ms: number, options: WaitOptions): Promise<void> {
  return new Promise((resolve) => settleOnce(ms, options, () => resolve()));
}

/**
 * Calls `settle` once: after `ms`, at a wake-up, at the end of the session, or when the caller
 * calls the returned function; every listener is removed first, so a later wake is kept for
 * the next wait instead of being taken by this finished one.
 */
function settleOnce(
  ms: number,
  options: WaitOptions,
  settle: (error?: Error) => void,
): (error?: Error) => void {
  const listening = new AbortController();
  let settled = false;
  const finish = (error?: Error) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    listening.abort();
    options.signal?.removeEventListener('abort', onAbort);
    settle(error);
  };
  const onAbort = () => finish();
  const timer = setTimeout(finish, ms);
  if (options.signal?.aborted) queueMicrotask(onAbort);
  options.signal?.addEventListener('abort', onAbort);
  void options.wakeup.wait(listening.signal).then(() => finish());
  return finish;
}
