/**
 * One mailbox-sync session: connect, catch up every watched folder, then watch — IDLE where
 * the server offers it (imapflow enters it by itself and reports new mail as `exists`) and a
 * UID poll always — until the session ends. A lost connection is re-opened with exponential
 * backoff; a refused login stops the session with health `auth-failed`, because retrying an
 * expired password only locks the account.
 */
import type { ImapFlow } from 'imapflow';
import { MailboxSchema, type Mailbox } from '../store/entities/mailbox.js';
import { TENANT_FILTER } from '../store/orm.js';
import { backoffDelay } from './batches.js';
import type { IntakeContext } from './context.js';
import { syncFolder, type FolderSyncResult } from './folder-sync.js';
import { markFailed, markHealthy } from './health.js';
import { connectImap, imapSettingsOf, isAuthenticationFailure } from './imap.js';

export interface SessionOptions {
  /** Stop watching when aborted; the current batch still commits. */
  signal?: AbortSignal;
  /** Catch up once and return instead of watching. */
  once?: boolean;
  /** Wakes a watching session at once ("sync now"). */
  wakeup?: Wakeup;
}

export interface SessionSummary {
  passes: number;
  inserted: number;
  duplicates: number;
  fetched: number;
  reconnects: number;
  stoppedBy: 'once' | 'signal' | 'auth-failed' | 'disabled' | 'missing';
}

/** A latch a session waits on between polls; `wake()` ends the wait early. */
export class Wakeup {
  private waiters: (() => void)[] = [];

  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export async function runMailboxSession(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
  options: SessionOptions = {},
): Promise<SessionSummary> {
  const summary: SessionSummary = {
    passes: 0,
    inserted: 0,
    duplicates: 0,
    fetched: 0,
    reconnects: 0,
    stoppedBy: 'once',
  };
  let failures = 0;
  while (!options.signal?.aborted) {
    const mailbox = await loadMailbox(ctx, tenantId, mailboxId);
    if (!mailbox) return { ...summary, stoppedBy: 'missing' };
    if (!mailbox.enabled) return { ...summary, stoppedBy: 'disabled' };
    let client: ImapFlow | null = null;
    try {
      client = await connectImap(imapSettingsOf(mailbox, ctx.secretKey));
      for (;;) {
        const results = await syncAll(ctx, client, mailbox);
        summary.passes += 1;
        for (const r of results) {
          summary.inserted += r.inserted;
          summary.duplicates += r.duplicates;
          summary.fetched += r.fetched;
        }
        await markHealthy(ctx, tenantId, mailboxId);
        failures = 0;
        if (options.once) return summary;
        if (options.signal?.aborted) break;
        await waitForActivity(client, ctx.limits.pollMs, options);
        if (options.signal?.aborted) break;
      }
    } catch (error) {
      if (isAuthenticationFailure(error)) {
        await markFailed(ctx, tenantId, mailboxId, 'auth-failed', error);
        return { ...summary, stoppedBy: 'auth-failed' };
      }
      failures = await markFailed(ctx, tenantId, mailboxId, 'failing', error);
      ctx.log.warn({ mailboxId, failures, err: error }, 'mailbox sync failed; reconnecting');
      if (options.once) throw error;
      summary.reconnects += 1;
      await sleep(
        backoffDelay(failures, ctx.limits.backoffMs, ctx.limits.maxBackoffMs),
        options.signal,
      );
    } finally {
      await closeQuietly(client);
    }
  }
  return { ...summary, stoppedBy: 'signal' };
}

async function syncAll(
  ctx: IntakeContext,
  client: ImapFlow,
  mailbox: Mailbox,
): Promise<FolderSyncResult[]> {
  const results: FolderSyncResult[] = [];
  for (const folder of mailbox.folders)
    results.push(await syncFolder(ctx, client, mailbox, folder));
  return results;
}

async function loadMailbox(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
): Promise<Mailbox | null> {
  const em = ctx.orm.em.fork({ clear: true });
  em.setFilterParams(TENANT_FILTER, { tenantId });
  return em.findOne(MailboxSchema, { id: mailboxId });
}

/**
 * Resolves on new mail (IDLE `exists`), a wake-up, the poll interval, or the end of the
 * session; rejects when the connection closes so the caller reconnects.
 */
function waitForActivity(client: ImapFlow, pollMs: number, options: SessionOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off('exists', onExists);
      client.off('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onExists = () => done();
    const onAbort = () => done();
    const onClose = () =>
      done(Object.assign(new Error('IMAP connection closed'), { code: 'ConnectionClosed' }));
    const timer = setTimeout(() => done(), pollMs);
    client.on('exists', onExists);
    client.on('close', onClose);
    options.signal?.addEventListener('abort', onAbort);
    options.wakeup?.wait().then(() => done());
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
    signal?.addEventListener('abort', finish);
  });
}

async function closeQuietly(client: ImapFlow | null): Promise<void> {
  if (!client) return;
  if (client.usable) {
    await client.logout().catch(() => undefined);
  } else {
    client.close();
  }
}
