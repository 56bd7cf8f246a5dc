/**
 * "Sync now" across a cluster: Agenda's lock puts a mailbox's watching session on one node, and
 * the API call may reach any other (or a node that runs no scheduler at all). The request is an
 * instant on the mailbox row; the session reads it every few seconds and wakes when it moves,
 * instead of waiting up to a poll interval (a minute) for mail IDLE does not announce (another
 * folder) or for a configuration changed elsewhere.
 */
import { MailboxSchema } from '../store/entities/mailbox.js';
import { tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';
import type { Wakeup } from './imap-wait.js';

export async function requestSync(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
): Promise<void> {
  await tenantFork(ctx.orm, tenantId).nativeUpdate(
    MailboxSchema,
    { id: mailboxId },
    { syncRequestedAt: ctx.now() },
  );
}

/** Wakes `wakeup` whenever a sync is requested after the session started; `stop` ends it. */
export function watchSyncRequests(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
  wakeup: Wakeup,
  everyMs: number,
): { stop(): void } {
  let seen: number | undefined;
  const check = async () => {
    const mailbox = await tenantFork(ctx.orm, tenantId).findOne(
      MailboxSchema,
      { id: mailboxId },
      { fields: ['syncRequestedAt'] },
    );
    const at = mailbox?.syncRequestedAt ? new Date(mailbox.syncRequestedAt).getTime() : 0;
    if (seen !== undefined && at > seen) wakeup.wake();
    seen = Math.max(seen ?? 0, at);
  };
  // A database that does not answer now is asked again at the next tick; the poll still runs.
  const tick = () => void check().catch(() => undefined);
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
