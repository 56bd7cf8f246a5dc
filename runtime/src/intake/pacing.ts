/**
 * The sending pace of a mailbox: a provider that takes at most N submissions a minute
 * (`smtp.maxPerMinute`; InfoCert takes 6, docs/pec.md) refuses the rest, so we never offer it
 * more. The instants of the last minute's submissions are kept on the mailbox row and read and
 * written under its lock, so every node of a cluster counts the same ones.
 *
 * Sends told to wait queue for the slots in the order they first asked, when they have an
 * idempotency key to be known by when they ask again (every send task, and API calls with an
 * Idempotency-Key): a freed slot goes to the oldest waiter, so a mass mailing of hundreds of
 * messages through a 6-a-minute provider goes out in order, and none waits for ever while
 * newer ones win the race. A send without a key gets a slot only when no waiter is owed it.
 */
import { LockMode } from '@mikro-orm/core';
import { PecTrackError } from '../errors.js';
import { MailboxSchema, type Mailbox, type SendingWaiter } from '../store/entities/mailbox.js';
import { tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';

const WINDOW_MS = 60_000;
/**
 * A waiter that has not asked again for this long (its instance cancelled, its client gone) no
 * longer holds its place; waiters are told to ask again within `pacingRecheckMs`.
 */
const waiterLapseMs = (ctx: IntakeContext) => Math.max(WINDOW_MS, 3 * ctx.limits.pacingRecheckMs);

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
      `mailbox ${mailboxId} has submitted the ${maxPerMinute} message(s) a minute its provider takes; ask again in ${Math.ceil(retryAfterMs / 1000)} s (a send with an Idempotency-Key keeps its place in the queue for the next slots; one without gets a slot only when no queued send is owed it)`,
      { maxPerMinute, retryAfterMs },
    );
  }
}

/** What the pace holds now: submissions in the last minute, and sends waiting for a slot. */
export function sendingBacklog(
  ctx: IntakeContext,
  mailbox: Mailbox,
): { submittedLastMinute: number; waiting: number } | null {
  if (!mailbox.smtpMaxPerMinute) return null;
  const now = ctx.now().getTime();
  return {
    submittedLastMinute: (mailbox.smtpRecentSubmissions ?? []).filter(
      (at) => Date.parse(at) > now - WINDOW_MS,
    ).length,
    waiting: liveWaiters(ctx, mailbox, now).length,
  };
}

/** The waiters that still ask, oldest first. */
function liveWaiters(ctx: IntakeContext, mailbox: Mailbox, now: number): SendingWaiter[] {
  return (mailbox.smtpWaiting ?? []).filter(
    (w) => Date.parse(w.askedAt) > now - waiterLapseMs(ctx),
  );
}

/**
 * Takes a submission slot of the mailbox now, or says in how many milliseconds the slot this
 * caller waits for frees up (0: taken, or the mailbox has no limit). `waiter`, the send's
 * idempotency key, keeps its place in the queue from one ask to the next. A slot taken is spent
 * whatever the submission's fate: the provider counts attempts too.
 */
export async function takeSendingSlot(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
  waiter?: string,
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
    const queue = liveWaiters(ctx, mailbox, now);
    const place = queue.findIndex((w) => w.key === waiter);
    // Waiters ahead of this caller: all of them for a send without a key, or new in the queue.
    const ahead = place >= 0 ? place : queue.length;
    const free = Math.max(0, max - recent.length);
    if (ahead < free) {
      mailbox.smtpRecentSubmissions = [...recent, now]
        .slice(-max)
        .map((at) => new Date(at).toISOString());
      mailbox.smtpWaiting = queue.filter((w) => w.key !== waiter);
      return 0;
    }
    const asked = new Date(now).toISOString();
    if (waiter !== undefined && place < 0) queue.push({ key: waiter, askedAt: asked });
    else if (place >= 0) queue[place] = { ...queue[place]!, askedAt: asked };
    mailbox.smtpWaiting = queue;
    // Slots free as the window's submissions leave it, oldest first: the first when the count
    // drops below max, and this caller's `ahead` after it (or in a later window).
    const freesAt = recent[recent.length - max + ahead];
    return freesAt === undefined ? WINDOW_MS : Math.max(1, freesAt + WINDOW_MS - now);
  });
}
