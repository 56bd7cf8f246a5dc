/**
 * The sending pace of a mailbox: a provider that takes at most N submissions a minute
 * (`smtp.maxPerMinute`; InfoCert takes 6, docs/pec.md) refuses the rest, so we never offer it
 * more. The instants of the last minute's submissions are kept on the mailbox row and read and
 * written under its lock, so every node of a cluster counts the same ones.
 */
import { LockMode } from '@mikro-orm/core';
import { PecTrackError } from '../errors.js';
import { MailboxSchema } from '../store/entities/mailbox.js';
import { tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';

const WINDOW_MS = 60_000;

/** The mailbox has used its submissions of the last minute: send again in `retryAfterMs`. */
export class SendingPacedError extends PecTrackError {
  constructor(
    mailboxId: string,
    maxPerMinute: number,
    readonly retryAfterMs: number,
  ) {
    super(
      'sending-paced',
      429,
      `mailbox ${mailboxId} has submitted the ${maxPerMinute} message(s) a minute its provider takes; the next may go in ${Math.ceil(retryAfterMs / 1000)} s`,
      { maxPerMinute, retryAfterMs },
    );
  }
}

/**
 * Takes a submission slot of the mailbox now, or says in how many milliseconds the next one
 * frees up (0: taken, or the mailbox has no limit). A slot taken is spent whatever the
 * submission's fate: the provider counts attempts too.
 */
export async function takeSendingSlot(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
): Promise<number> {
  return tenantFork(ctx.orm, tenantId).transactional(async (tx) => {
    const mailbox = await tx.findOne(
      MailboxSchema,
      { id: mailboxId },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    const max = mailbox?.smtpMaxPerMinute;
    if (!mailbox || !max) return 0;
    const now = ctx.now().getTime();
    const recent = (mailbox.smtpRecentSubmissions ?? [])
      .map((at) => Date.parse(at))
      .filter((at) => at > now - WINDOW_MS)
      .sort((a, b) => a - b);
    // The slot frees when the oldest of the last `max` leaves the window.
    if (recent.length >= max) return Math.max(1, recent[recent.length - max]! + WINDOW_MS - now);
    mailbox.smtpRecentSubmissions = [...recent, now]
      .slice(-max)
      .map((at) => new Date(at).toISOString());
    return 0;
  });
}
