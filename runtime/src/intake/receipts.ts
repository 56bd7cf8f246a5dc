/**
 * A receipt finds the message we sent through X-Riferimento-Message-ID / daticert msgid and
 * moves its recipients' delivery state, inside the intake transaction. Each move is a
 * MessageEvent row; the caller publishes the result as a `pec.receipt` BPMN message after
 * the commit.
 *
 * Every writer of a sent message's delivery state (a receipt here, the submission outcome in
 * outgoing.ts) first locks the message row, then reads its recipients: each recomputes the
 * state from what it read, so without the lock a second writer on PostgreSQL would write back
 * what it read before the first one committed (a lost update). SQLite has one writer at a time.
 */
import { LockMode, type EntityManager, type RequiredEntityData } from '@mikro-orm/core';
import type { DeliveryEvent } from '@pectrack/connector-pec';
import type { IntakeContext } from './context.js';
import type { MessageFacts } from './facts.js';
import {
  MessageEventSchema,
  MessageSchema,
  OutgoingRecipientSchema,
  type DeliveryStatus,
  type Message,
  type MessageEvent,
} from '../store/entities/message.js';
import {
  affectedRecipients,
  messageStatus,
  recipientAfter,
  repeatsWarning,
  SECOND_TIMEOUT_REASON,
  statusFor,
} from './delivery.js';

export interface AppliedReceipt {
  /** Our outgoing message's row id and its Message-ID (the BPMN correlation key). */
  sentId: string;
  sentMessageId: string;
  receiptId: string;
  evidence: string;
  event: DeliveryEvent['type'];
  recipients: string[];
  status: DeliveryStatus;
  /** Whether any recipient's state moved: a receipt that changes nothing is history, not news. */
  changed: boolean;
}

/**
 * The step a sent message gets when a receipt about it came but does not count (facts.ts,
 * receiptDoubt): the clerk and a records system following the delivery feed see that one came
 * and why it moved nothing. It is no sign the provider took the message (earlier-send.ts).
 */
export const RECEIPT_NOT_APPLIED = 'receipt-not-applied';

/**
 * Records RECEIPT_NOT_APPLIED on the sent message `receipt` refers to; false when none is ours.
 * `more` marks a note no later reading changes (`namesNoRecipient`), unlike a doubt.
 */
export async function noteReceiptNotApplied(
  tx: EntityManager,
  receipt: Message,
  evidence: string,
  referencedMessageId: string,
  reason: string,
  now: Date,
  sentFrom: SentFrom = {},
  more: Record<string, unknown> = {},
): Promise<boolean> {
  const sent = await tx.findOne(
    MessageSchema,
    { direction: 'out', messageId: referencedMessageId, ...sentFrom },
    { fields: ['id'] },
  );
  if (!sent) return false;
  await tx.insertMany<MessageEvent>(MessageEventSchema, [
    {
      tenant: receipt.tenant,
      messageId: sent.id,
      recipient: null,
      at: now,
      event: RECEIPT_NOT_APPLIED,
      receiptMessageId: receipt.id,
      data: { evidence, reason, ...more },
    },
  ]);
  return true;
}

/** Which sent messages a receipt may be about: any of the tenant's, or one mailbox's. */
type SentFrom = { mailboxId?: string | null };

export interface ReceiptStep {
  /** The receipt is about a message we sent (applied, or noted as not counting). */
  aboutOurMessage: boolean;
  applied: AppliedReceipt | null;
}

/**
 * What a stored receipt does to the message it refers to: moves it when its signature holds
 * (applyReceipt), else leaves a RECEIPT_NOT_APPLIED step on it. Not a receipt: nothing.
 */
export async function takeReceipt(
  tx: EntityManager,
  receipt: Message,
  facts: Pick<MessageFacts, 'kind' | 'originalMessageId' | 'receiptDoubt' | 'remDispatch'>,
  event: DeliveryEvent | null,
  now: Date,
): Promise<ReceiptStep> {
  const { originalMessageId, receiptDoubt } = facts;
  // A REM dispatch carries the sender's original with its evidence: the sender's copy when it
  // comes back to the mailbox that sent it, but mail to us (a case) in another of our mailboxes.
  const sentFrom: SentFrom = facts.remDispatch ? { mailboxId: receipt.mailboxId } : {};
  if (!originalMessageId) return { aboutOurMessage: false, applied: null };
  // With no event, a doubt means a receipt named by its headers alone (receiptDoubtOf).
  if (!event && receiptDoubt === null) return { aboutOurMessage: false, applied: null };
  // An anomaly envelope wraps mail nobody certified: whatever Message-ID it names, it says
  // nothing about a message we sent, and must not pass for a sign the provider took it.
  if (event?.type === 'anomaly') return { aboutOurMessage: false, applied: null };
  if (receiptDoubt !== null) {
    const noted = await noteReceiptNotApplied(
      tx,
      receipt,
      event?.evidence ?? facts.kind,
      originalMessageId,
      receiptDoubt,
      now,
      sentFrom,
    );
    return { aboutOurMessage: noted, applied: null };
  }
  if (!event) return { aboutOurMessage: false, applied: null };
  const applied = await applyReceipt(tx, receipt, event, originalMessageId, now, sentFrom);
  return { aboutOurMessage: applied !== null, applied };
}

export async function applyReceipt(
  tx: EntityManager,
  receipt: Message,
  event: DeliveryEvent,
  referencedMessageId: string,
  now: Date,
  sentFrom: SentFrom = {},
): Promise<AppliedReceipt | null> {
  const sent = await tx.findOne(
    MessageSchema,
    { direction: 'out', messageId: referencedMessageId, ...sentFrom },
    { lockMode: LockMode.PESSIMISTIC_WRITE },
  );
  if (!sent) return null;
  const recipients = await tx.find(OutgoingRecipientSchema, { messageId: sent.id });
  const affected = new Set(
    affectedRecipients(
      event,
      recipients.map((r) => r.address),
    ),
  );
  if (affected.size === 0)
    return namesNoRecipient(tx, receipt, sent, event, referencedMessageId, now);
  const external = new Set(event.external.map((address) => address.toLowerCase()));
  const certifiedFailures = await certifiedFailuresOf(tx, sent.id, recipients);
  // Read only for the two receipts that need their kind's history: a query per receipt else.
  const earlier =
    event.type === 'accepted' || event.type === 'timeout'
      ? await earlierSteps(tx, sent.id, event.evidence, affected)
      : new Map<string, (string | null)[]>();
  const events: RequiredEntityData<MessageEvent>[] = [];
  let changed = false;
  for (const recipient of recipients) {
    if (!affected.has(recipient.address)) continue;
    const isExternal = external.has(recipient.address.toLowerCase());
    const incoming = statusFor(event, isExternal);
    const status = incoming
      ? recipientAfter(recipient.status, incoming, {
          external: isExternal,
          certifiedFailure: certifiedFailures.has(recipient.address),
          repeatedWarning: repeatsWarning(event.at, earlier.get(recipient.address) ?? []),
        })
      : recipient.status;
    const escalated = incoming === 'timeout' && status === 'failed';
    events.push({
      tenant: receipt.tenant,
      messageId: sent.id,
      recipient: recipient.address,
      at: now,
      event: event.evidence,
      receiptMessageId: receipt.id,
      data: {
        from: recipient.status,
        to: status,
        reason: escalated ? SECOND_TIMEOUT_REASON : event.reason,
        certifiedAt: event.at,
      },
    });
    // A failure the submission call recorded (its answer lost, say) that a receipt now
    // certifies is news too: the process that retried the send waits for that receipt.
    const certifiesFailure =
      status === 'failed' && incoming === 'failed' && !certifiedFailures.has(recipient.address);
    changed ||= status !== recipient.status || certifiesFailure;
    recipient.status = status;
    recipient.updatedAt = now;
  }
  const status = messageStatus(recipients.map((r) => r.status));
  sent.deliveryStatus = status;
  if (events.length > 0) await tx.insertMany<MessageEvent>(MessageEventSchema, events);
  await tx.flush();
  // The provider's acceptance arriving after a delivery moves nothing, but it is the first
  // acceptance: a process waiting for it (then for the delivery) must hear of it.
  const firstAcceptance = event.type === 'accepted' && earlier.size === 0;
  return {
    sentId: sent.id,
    sentMessageId: referencedMessageId,
    receiptId: receipt.id,
    evidence: event.evidence,
    event: event.type,
    recipients: [...affected],
    status,
    changed: changed || firstAcceptance,
  };
}

/**
 * A receipt about our message that names none of its recipients (a delivery receipt without
 * `<consegna>` for a message sent to several, or naming an address we did not send to): kept in
 * the history as not applied, moving no one, rather than leaving no trace.
 */
async function namesNoRecipient(
  tx: EntityManager,
  receipt: Message,
  sent: Message,
  event: DeliveryEvent,
  referencedMessageId: string,
  now: Date,
): Promise<AppliedReceipt> {
  const named = event.recipients.length > 0 ? event.recipients.join(', ') : 'none';
  await noteReceiptNotApplied(
    tx,
    receipt,
    event.evidence,
    referencedMessageId,
    `names no recipient of this message (named: ${named})`,
    now,
    {},
    { namesNoRecipient: true },
  );
  return {
    sentId: sent.id,
    sentMessageId: referencedMessageId,
    receiptId: receipt.id,
    evidence: event.evidence,
    event: event.type,
    recipients: [],
    status: sent.deliveryStatus ?? 'submitted',
    changed: false,
  };
}

/**
 * The certified times of the receipts of this kind each affected recipient already had: what
 * tells a timeout warning sent again from the second one, and a first acceptance from a repeat.
 */
async function earlierSteps(
  tx: EntityManager,
  sentId: string,
  evidence: string,
  affected: Set<string>,
): Promise<Map<string, (string | null)[]>> {
  const steps = await tx.find(MessageEventSchema, {
    messageId: sentId,
    event: evidence,
    recipient: { $in: [...affected] },
    receiptMessageId: { $ne: null },
  });
  const times = new Map<string, (string | null)[]>();
  for (const step of steps) {
    const at = typeof step.data?.certifiedAt === 'string' ? step.data.certifiedAt : null;
    times.set(step.recipient ?? '', [...(times.get(step.recipient ?? '') ?? []), at]);
  }
  return times;
}

/**
 * The recipients whose `failed` a receipt certified, as opposed to a failed submission call
 * (see RecipientFacts). Read only when one is failed, which is rare.
 */
async function certifiedFailuresOf(
  tx: EntityManager,
  sentId: string,
  recipients: { address: string; status: DeliveryStatus }[],
): Promise<Set<string>> {
  const failed = recipients.filter((r) => r.status === 'failed').map((r) => r.address);
  if (failed.length === 0) return new Set();
  const steps = await tx.find(MessageEventSchema, {
    messageId: sentId,
    recipient: { $in: failed },
    receiptMessageId: { $ne: null },
  });
  return new Set(
    steps.filter((step) => step.data?.to === 'failed').map((step) => step.recipient ?? ''),
  );
}

/** After the commit that kept them: a failure here loses nothing (see below). */
export async function deliverReceipts(ctx: IntakeContext, tenantId: string, keptIds: number[]) {
  try {
    await ctx.receipts.deliver(tenantId, keptIds);
  } catch (error) {
    // The receipts are committed and kept: the message buffer's sweep job delivers them.
    ctx.log.warn({ receipts: keptIds, err: error }, 'delivering pec.receipt failed');
  }
}
