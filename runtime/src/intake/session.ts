/**
 * One mailbox-sync session: connect, catch up every watched folder, then watch — IDLE where
 * the server offers it (imapflow enters it by itself and reports new mail as `exists`) and a
 * UID poll always — until the session ends. A lost connection is re-opened with exponential
 * backoff; a refused login stops the session with health `auth-failed` and is not retried on a
 * timer (health.ts, `markLoginRefused`).
 *
 * The mailbox row is read again after every wait: a change made on any node of the cluster
 * (folders, server, credentials, disabled, deleted) takes effect at the session's next turn,
 * by reconnecting with the new configuration or stopping. The node that makes the change also
 * wakes its own session, so there it takes effect at once.
 */
import type { ImapFlow } from 'imapflow';
import { MailboxSchema, type Mailbox } from '../store/entities/mailbox.js';
import { tenantFork } from '../store/orm.js';
import { backoffDelay } from './batches.js';
import type { IntakeContext } from './context.js';
import { markFailed, markFolderProblems, markHealthy, markLoginRefused } from './health.js';
import { connectImap, imapSettingsOf, isAuthenticationFailure } from './imap.js';
import { pause, waitForActivity, Wakeup, type WaitOptions } from './imap-wait.js';
import { syncPass, type PassOutcome } from './sync-pass.js';

export { Wakeup } from './imap-wait.js';

export interface SessionOptions {
  /** Stop watching when aborted; the current batch still commits. */
  signal?: AbortSignal;
  /** Catch up once and return instead of watching. */
  once?: boolean;
  /** Wakes a watching session at once ("sync now", a changed mailbox). */
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

type Watching = SessionOptions & WaitOptions;

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
  const watching: Watching = { ...options, wakeup: options.wakeup ?? new Wakeup() };
  while (!options.signal?.aborted) {
    const mailbox = await loadMailbox(ctx, tenantId, mailboxId);
    const stop = reasonToStop(mailbox);
    if (stop) return { ...summary, stoppedBy: stop };
    try {
      if ((await watchConnection(ctx, mailbox!, watching, summary)) === 'once') return summary;
    } catch (error) {
      if (isAuthenticationFailure(error)) {
        // Not marked when the credentials changed during the attempt: the new ones are tried.
        if (await markLoginRefused(ctx, mailbox!, error)) {
          // Loud: an expired app password stops the mailbox until someone acts (docs/pec.md).
          ctx.log.warn(
            { mailboxId, username: mailbox!.username, err: error },
            'mailbox login refused; not retried until its credentials change or a sync now',
          );
          return { ...summary, stoppedBy: 'auth-failed' };
        }
        continue;
      }
      const failures = await markFailed(ctx, mailbox!, error);
      ctx.log.warn({ mailboxId, failures, err: error }, 'mailbox sync failed; reconnecting');
      if (options.once) throw error;
      summary.reconnects += 1;
      await pause(backoffDelay(failures, ctx.limits.backoffMs, ctx.limits.maxBackoffMs), watching);
    }
  }
  return { ...summary, stoppedBy: 'signal' };
}

function reasonToStop(mailbox: Mailbox | null): SessionSummary['stoppedBy'] | null {
  if (!mailbox) return 'missing';
  if (!mailbox.enabled) return 'disabled';
  if (mailbox.healthStatus === 'auth-failed') return 'auth-failed';
  return null;
}

/**
 * Passes and waits on one connection. Returns 'once' after the single pass asked for, or
 * 'reload' when the session ends or the mailbox changed, for the caller to read it again.
 */
async function watchConnection(
  ctx: IntakeContext,
  mailbox: Mailbox,
  options: Watching,
  summary: SessionSummary,
): Promise<'once' | 'reload'> {
  const client = await connectImap(imapSettingsOf(mailbox, ctx));
  // Heard for the whole connection, not only while waiting: mail announced during a pass may
  // not be in what that pass listed, and the wake is kept for the next wait.
  client.on('exists', () => options.wakeup.wake());
  try {
    for (;;) {
      await recordPass(ctx, mailbox, await syncPass(ctx, client, mailbox), summary);
      if (options.once) return 'once';
      if (options.signal?.aborted) return 'reload';
      await waitForActivity(client, ctx.limits.pollMs, options);
      if (options.signal?.aborted || (await changedSince(ctx, mailbox))) return 'reload';
    }
  } finally {
    await closeQuietly(client);
  }
}

async function recordPass(
  ctx: IntakeContext,
  mailbox: Mailbox,
  outcome: PassOutcome,
  summary: SessionSummary,
): Promise<void> {
  summary.passes += 1;
  for (const r of outcome.results) {
    summary.inserted += r.inserted;
    summary.duplicates += r.duplicates;
    summary.fetched += r.fetched;
  }
  if (outcome.problems.length > 0)
    await markFolderProblems(ctx, mailbox.tenant.id, mailbox.id, outcome.problems);
  else await markHealthy(ctx, mailbox.tenant.id, mailbox.id);
}

/** True when the mailbox was deleted or its configuration changed since `watched` was read. */
async function changedSince(ctx: IntakeContext, watched: Mailbox): Promise<boolean> {
  const current = await loadMailbox(ctx, watched.tenant.id, watched.id);
  return !current || configurationOf(current) !== configurationOf(watched);
}

/**
 * What a session depends on. Compared rather than `updatedAt`, which health writes move on
 * every pass; a new password always differs, because each encryption has its own IV.
 */
function configurationOf(mailbox: Mailbox): string {
  return JSON.stringify([
    mailbox.enabled,
    mailbox.imapHost,
    mailbox.imapPort,
    mailbox.imapTls,
    mailbox.imapAllowPlaintext,
    mailbox.username,
    mailbox.passwordEncrypted,
    mailbox.folders,
    mailbox.flagKeyword,
  ]);
}

async function loadMailbox(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
): Promise<Mailbox | null> {
  const em = tenantFork(ctx.orm, tenantId);
  return em.findOne(MailboxSchema, { id: mailboxId });
}

async function closeQuietly(client: ImapFlow): Promise<void> {
  if (client.usable) {
    await client.logout().catch(() => undefined);
  } else {
    client.close();
  }
}
