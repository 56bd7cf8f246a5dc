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
 * A waiter that has not asked again this long after it was told to (its instance cancelled, its
 * client gone) no longer holds its place.
 */
const waiterGraceMs = (ctx: IntakeContext) => Math.max(WINDOW_MS, 3 * ctx.limits.pacingRecheckMs);
/** A waiter far back asks again at most this many rechecks apart (five minutes by default). */
const FAR_RECHECKS = 30;

/**
 * When a send told to wait `waitMs` for its slot should ask again. Near the head of the queue
 * (its slot within the minute), every `pacingRecheckMs`, so a slot is never left idle long;
 * further back, half a window before its slot is due, and never more than FAR_RECHECKS rechecks
 * apart. 300 sends queued behind a 6-a-minute provider then ask about 10 times each, not every
 * 10 s for 50 minutes (148 times each).
 */
export function askAgainAfterMs(ctx: IntakeContext, waitMs: number): number {
  const recheck = ctx.limits.pacingRecheckMs;
  if (waitMs <= WINDOW_MS) return Math.min(waitMs, recheck);
  return Math.max(recheck, Math.min(waitMs - WINDOW_MS / 2, FAR_RECHECKS * recheck));
}

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
  const keepsPlaceUntil = (w: SendingWaiter) =>
    w.keepsPlaceUntil ? Date.parse(w.keepsPlaceUntil) : Date.parse(w.askedAt) + waiterGraceMs(ctx);
  return (mailbox.smtpWaiting ?? []).filter((w) => keepsPlaceUntil(w) > now);
}

/**
 * When the slot of the caller with `ahead` waiters before it frees. Each of the `max` slots is
 * free now or when its submission leaves the window; taken again at once, each frees one window
 * later, and so on. An estimate: a waiter ahead that gives up makes it early, never late.
 */
function slotFreesAt(recent: number[], max: number, ahead: number, now: number): number {
  const slots = [...Array.from({ length: Math.max(0, max - recent.length) }, () => now)]
    .concat(recent.slice(-max).map((at) => at + WINDOW_MS))
    .sort((a, b) => a - b);
  return slots[ahead % max]! + WINDOW_MS * Math.floor(ahead / max);
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
    const wait = Math.max(1, slotFreesAt(recent, max, ahead, now) - now);
    if (waiter !== undefined) {
      const entry: SendingWaiter = {
        key: waiter,
        askedAt: new Date(now).toISOString(),
        keepsPlaceUntil: new Date(
          now + askAgainAfterMs(ctx, wait) + waiterGraceMs(ctx),
        ).toISOString(),
      };
      if (place < 0) queue.push(entry);
      else queue[place] = entry;
    }
    mailbox.smtpWaiting = queue;
    return wait;
  });
}
