/**
 * Mailbox health as the API shows it: the outcome of the last sync attempts. Only an enabled
 * mailbox's health is written: a session that finishes a pass after its mailbox was disabled
 * must not report it 'ok' again.
 */
import type { FilterQuery } from '@mikro-orm/core';
import { MailboxSchema, type Mailbox } from '../store/entities/mailbox.js';
import { tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';
import type { FolderProblem } from '../store/entities/mailbox.js';
import { describeConnectionError, errorDetail, imapEndpointOf } from './imap.js';

export async function markHealthy(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
): Promise<void> {
  await updateEnabled(ctx, tenantId, mailboxId, {
    healthStatus: 'ok',
    lastError: null,
    consecutiveFailures: 0,
    folderProblems: null,
  });
}

/**
 * A pass that read some folders but not all: `failing`, naming each folder. The failure count
 * stays at 0: it counts failed connections and sets the reconnect backoff, and this connection
 * works.
 */
export async function markFolderProblems(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
  problems: FolderProblem[],
): Promise<void> {
  await updateEnabled(ctx, tenantId, mailboxId, {
    healthStatus: 'failing',
    lastError: problems.map((p) => p.reason).join('; '),
    consecutiveFailures: 0,
    folderProblems: problems,
  });
}

async function updateEnabled(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
  health: Pick<Mailbox, 'healthStatus' | 'lastError' | 'consecutiveFailures' | 'folderProblems'>,
): Promise<void> {
  const em = tenantFork(ctx.orm, tenantId);
  const now = ctx.now();
  await em.nativeUpdate(
    MailboxSchema,
    { id: mailboxId, enabled: true },
    { ...health, lastSyncAt: now, updatedAt: now },
  );
}

/**
 * Records a failed connection or pass, in the words the connection test uses, and returns how
 * many happened in a row.
 */
export async function markFailed(
  ctx: IntakeContext,
  mailbox: Mailbox,
  error: unknown,
): Promise<number> {
  return recordFailure(
    ctx,
    mailbox.tenant.id,
    { id: mailbox.id, enabled: true },
    'failing',
    describeConnectionError(error, imapEndpointOf(mailbox)),
  );
}

/**
 * A refused login is not retried on a timer: a password that expired, retried every few
 * minutes, gets the provider account locked. The session does not log in while health is
 * `auth-failed`; what makes another attempt worth it reopens it: new credentials or server
 * (a mailbox update resets health), "sync now", or a connection test that logs in.
 *
 * Written only if the mailbox still has the credentials that were refused, so a password
 * changed during the attempt is tried instead of shut out. Returns false when it was not.
 */
export async function markLoginRefused(
  ctx: IntakeContext,
  refused: Mailbox,
  error: unknown,
): Promise<boolean> {
  const sameCredentials: FilterQuery<Mailbox> = {
    id: refused.id,
    enabled: true,
    imapHost: refused.imapHost,
    imapPort: refused.imapPort,
    imapTls: refused.imapTls,
    imapAllowPlaintext: refused.imapAllowPlaintext,
    username: refused.username,
    passwordEncrypted: refused.passwordEncrypted,
  };
  const reason = `login refused for ${refused.username}: update the password; not retried until then or a "sync now" (${errorDetail(error)})`;
  return (await recordFailure(ctx, refused.tenant.id, sameCredentials, 'auth-failed', reason)) > 0;
}

/** Lets the next session try a refused login once more ("sync now", a connection test that logged in). */
export async function reopenAfterLoginRefused(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
): Promise<void> {
  const em = tenantFork(ctx.orm, tenantId);
  await em.nativeUpdate(
    MailboxSchema,
    { id: mailboxId, healthStatus: 'auth-failed' },
    { healthStatus: 'unknown' },
  );
}

/** Returns the failures in a row, or 0 when no mailbox matched `where`. */
async function recordFailure(
  ctx: IntakeContext,
  tenantId: string,
  where: FilterQuery<Mailbox>,
  status: 'failing' | 'auth-failed',
  lastError: string,
): Promise<number> {
  const em = tenantFork(ctx.orm, tenantId);
  return em.transactional(async (tx) => {
    const mailbox = await tx.findOne(MailboxSchema, where);
    if (!mailbox) return 0;
    mailbox.healthStatus = status;
    mailbox.lastError = lastError.slice(0, 1000);
    mailbox.consecutiveFailures += 1;
    mailbox.updatedAt = ctx.now();
    return mailbox.consecutiveFailures;
  });
}
