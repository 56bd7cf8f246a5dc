/**
 * Certified sending through the mailbox's own SMTP. The outgoing Message row (with the
 * Message-ID every receipt will refer to) and one recipient row per address are committed
 * BEFORE the submission, so a receipt that comes back at once always finds them; the
 * submission's outcome is then recorded as the first delivery step. A caller's idempotency key
 * is stored on that row, so a retried call sends at most once more and only when the provider
 * never took the message (see `submit` for the window that remains).
 */
import { randomUUID } from 'node:crypto';
import { LockMode, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import {
  composePec,
  createPecTransport,
  OutgoingPecError,
  type ComposedPec,
  type OutgoingPec,
  type PecTransport,
  type SmtpSettings,
  type SubmissionResult,
} from '@pectrack/connector-pec';
import { BadRequestError, NotFoundError, PecTrackError } from '../errors.js';
import { MailboxSchema, type Mailbox } from '../store/entities/mailbox.js';
import {
  MessageEventSchema,
  MessageSchema,
  OutgoingRecipientSchema,
  type DeliveryStatus,
  type Message,
} from '../store/entities/message.js';
import { TenantSchema } from '../store/entities/tenant.js';
import { tenantFork } from '../store/orm.js';
import { askAgainAfterMs, SendingPacedError, takeSendingSlot } from './pacing.js';
import type { IntakeContext } from './context.js';
import { messageStatus } from './delivery.js';
import {
  checkedIdempotencyKey,
  findEarlierSend,
  neverTaken,
  recomposed,
  replaceWithCorrected,
  reopenForSubmission,
  sentMessageOf,
  SUBMISSION_FAILED,
  SUBMITTED,
  wasSubmitted,
  type SentMessage,
} from './earlier-send.js';
import { smtpSettingsOf } from './smtp.js';
import { receiptInMailbox } from './taken-check.js';
import {
  checkSameRequest,
  claimRemainingMs,
  claimSubmission,
  IdempotencyKeyReusedError,
  isSameRequest,
  requestFingerprint,
  SendInProgressError,
} from './send-request.js';

export type SendInput = Omit<OutgoingPec, 'from' | 'messageId'>;

export interface SendOptions {
  /**
   * The same for every retry of one logical send (a process task's call): the first call records
   * the message under it, a later one returns that message instead of certifying a second.
   */
  idempotencyKey?: string;
  /**
   * A process task's call only: a request that differs from the one recorded under the key (a
   * person corrected the variables and retried the incident) replaces the recorded message when
   * the provider certainly never took it, instead of being refused as a reused key. A REST
   * client's key keeps the Idempotency-Key rule: another request under it is refused.
   */
  replaceRefused?: boolean;
}

export type { SentMessage };

/** A send's answer; `replayed` when the key named a message already submitted, sent nothing now. */
export interface SendResult extends SentMessage {
  replayed: boolean;
}

export class SubmissionFailedError extends PecTrackError {
  constructor(message: string, details: Record<string, unknown>) {
    super('pec-submission-failed', 502, message, details);
  }
}

/** The transport for a mailbox; tests and the runtime use nodemailer, the seam keeps sending testable. */
export type TransportFactory = (settings: SmtpSettings) => PecTransport;

export function outgoingServices(
  ctx: IntakeContext,
  transportFor: TransportFactory = createPecTransport,
) {
  const em = (tenantId: string) => tenantFork(ctx.orm, tenantId);

  /**
   * The bytes to submit: a new message is composed (which checks what it says); a message
   * recorded by an earlier call but never taken by the provider (a crash between the commit and
   * SMTP, or a refused submission) goes out again as the same bytes and Message-ID.
   */
  async function compose(mailbox: Mailbox, input: SendInput, earlier: Message | null) {
    return earlier
      ? recomposed(ctx.blobs, earlier)
      : composeOrExplain({ ...input, from: mailbox.address });
  }

  /**
   * Stores and records a new message under its key, or reopens the earlier one; either way the
   * row comes back claimed by this call (send-request.ts) until `submit` records the outcome.
   */
  async function record(
    tenantId: string,
    mailbox: Mailbox,
    input: SendInput,
    keyed: { key: string; fingerprint: string } | null,
    earlier: Message | null,
    composed: ComposedPec,
  ): Promise<Message> {
    if (earlier) return reclaim(tenantId, earlier);
    const stored = await ctx.blobs.put(composed.raw);
    await ctx.blobs.flush();
    // The envelope names each mailbox once (compose.ts, oncePerMailbox); tracked in lower case.
    const recipients = composed.envelope.to.map((a) => a.toLowerCase());
    try {
      return await em(tenantId).transactional((tx) =>
        recordSubmission(
          tx,
          tenantId,
          mailbox,
          composed.messageId,
          input,
          keyed,
          recipients,
          stored,
          ctx.now(),
        ),
      );
    } catch (error) {
      // Another call recorded a message under this key since we looked: it is submitting it.
      if (keyed && error instanceof UniqueConstraintViolationException)
        throw new SendInProgressError(null, ctx.limits.pacingRecheckMs);
      throw error;
    }
  }

  /**
   * Takes over a message an earlier call recorded but the provider never accepted. Claimed and
   * checked again in one transaction: if another call claimed it first, or got it accepted
   * since we looked, this one submits nothing and is told to ask again.
   */
  async function reclaim(tenantId: string, earlier: Message): Promise<Message> {
    return claimed(tenantId, earlier, async (tx, now) => {
      if (await wasSubmitted(tx, earlier))
        throw new SendInProgressError(earlier.messageId, ctx.limits.pacingRecheckMs);
      return reopenForSubmission(tx, earlier, now);
    });
  }

  /**
   * `step` on the earlier message, in one transaction with taking its submission: a call that
   * holds it, or took it since we looked, is waited for instead (send-request.ts).
   */
  function claimed<T>(
    tenantId: string,
    earlier: Message,
    step: (tx: EntityManager, now: Date) => Promise<T>,
  ): Promise<T> {
    const now = ctx.now();
    return em(tenantId).transactional(async (tx) => {
      if (!(await claimSubmission(tx, earlier, now, ctx.limits.submissionLeaseMs)))
        throw new SendInProgressError(earlier.messageId, ctx.limits.pacingRecheckMs);
      return step(tx, now);
    });
  }

  /**
   * The outcome a dead caller never recorded, from the provider's receipt: claimed first, so
   * of two retries that found it one records it and the other answers with the message.
   */
  async function recordTakenBefore(
    tenantId: string,
    earlier: Message,
    receipt: string,
  ): Promise<SentMessage> {
    return claimed(tenantId, earlier, async (tx, now) => {
      if (await wasSubmitted(tx, earlier)) return sentMessageOf(tx, earlier);
      const taken: RecipientOutcome = {
        status: 'submitted',
        event: SUBMITTED,
        data: {
          response: `no answer was recorded (the submitting call stopped); the provider's receipt (${receipt}) shows it received the message`,
        },
      };
      return recordOutcome(tx, earlier, earlier.recipients, () => taken, now);
    });
  }

  /**
   * Frees the key of a message the provider certainly never took, for the corrected request
   * that replaces it; the message keeps its history. Claimed first, so a call still submitting
   * it is waited for; one that may have been certified keeps the key, and the new request is
   * refused as a reused key.
   */
  async function releaseKey(tenantId: string, earlier: Message, key: string): Promise<void> {
    await claimed(tenantId, earlier, async (tx, now) => {
      if (!(await neverTaken(tx, earlier))) throw new IdempotencyKeyReusedError(earlier, true);
      await replaceWithCorrected(tx, earlier, key, now);
    });
  }

  /**
   * Two calls with one key at the same moment cannot both get here: the row is claimed (record).
   * At-least-once window left: if the process dies after the provider accepted the message but
   * before the outcome below is committed, the claim holds repeats off for the submission lease
   * (10 minutes); past it, a repeat first searches the sender's mailbox for the provider's
   * receipts (taken-check.ts, seconds after the submission), read or not, and answers with the
   * message when one is there. Only with no receipt at all (the provider's mail delayed past the
   * lease, or the mailbox unreachable) does a repeat submit the same bytes again (same
   * Message-ID, so both receipts correlate to this row, but the provider certifies two).
   */
  async function submit(
    tenantId: string,
    settings: SmtpSettings,
    row: Message,
    composed: ComposedPec,
  ): Promise<SentMessage> {
    const recipients = row.recipients;
    const transport = transportFor(settings);
    try {
      const result = await transport.submit(composed);
      const taken: RecipientOutcome = {
        status: 'submitted',
        event: SUBMITTED,
        data: { response: result.response },
      };
      const refused = refusedRecipients(result);
      return await em(tenantId).transactional((tx) =>
        recordOutcome(tx, row, recipients, (a) => refused.get(a) ?? taken, ctx.now()),
      );
    } catch (error) {
      await em(tenantId).transactional((tx) =>
        recordOutcome(
          tx,
          row,
          recipients,
          () => ({
            status: 'failed',
            event: SUBMISSION_FAILED,
            data: {
              error: (error as Error).message,
              // What lets a corrected message replace this one (earlier-send.ts, neverTaken).
              ...((error as { notTaken?: unknown }).notTaken === true && { notTaken: true }),
            },
          }),
          ctx.now(),
        ),
      );
      // Refused, or the answer was lost after the provider took it: its receipts, if any come,
      // correct the state (delivery.ts), and a retry under the same key then sends nothing.
      // `transient`: the provider said "later" without taking it (PecSendError), so a retry is safe.
      throw new SubmissionFailedError(
        `the submission to the provider failed: ${(error as Error).message}`,
        {
          messageId: composed.messageId,
          id: row.id,
          transient: (error as { transient?: unknown }).transient === true,
          responseCode: (error as { responseCode?: unknown }).responseCode ?? null,
        },
      );
    } finally {
      transport.close();
    }
  }

  return {
    async send(
      tenantId: string,
      mailboxId: string,
      input: SendInput,
      options: SendOptions = {},
    ): Promise<SendResult> {
      const ready = await beforeSubmission(() => prepare(tenantId, mailboxId, input, options));
      if ('replayed' in ready) return ready;
      const { settings, row, composed } = ready;
      return { ...(await submit(tenantId, settings, row, composed)), replayed: false };
    },
  };

  /**
   * Everything before the submission: the earlier send under the key, the bytes, the pace and
   * the recorded row. Answers a replay, or what `submit` needs.
   */
  async function prepare(
    tenantId: string,
    mailboxId: string,
    input: SendInput,
    options: SendOptions,
  ): Promise<SendResult | { settings: SmtpSettings; row: Message; composed: ComposedPec }> {
    const key =
      options.idempotencyKey === undefined ? null : checkedIdempotencyKey(options.idempotencyKey);
    const keyed = key === null ? null : { key, fingerprint: requestFingerprint(mailboxId, input) };
    let earlier = keyed && (await findEarlierSend(em(tenantId), keyed.key));
    if (keyed && earlier && options.replaceRefused && !isSameRequest(earlier, keyed.fingerprint)) {
      await releaseKey(tenantId, earlier, keyed.key);
      earlier = null;
    }
    if (keyed && earlier) {
      checkSameRequest(earlier, keyed.fingerprint);
      if (await wasSubmitted(em(tenantId), earlier))
        return { ...(await sentMessageOf(em(tenantId), earlier)), replayed: true };
      // Before a slot of the pace is spent: the call holding it is still submitting.
      const held = claimRemainingMs(earlier, ctx.now(), ctx.limits.submissionLeaseMs);
      if (held > 0)
        throw new SendInProgressError(
          earlier.messageId,
          Math.min(held, ctx.limits.pacingRecheckMs),
        );
    }
    // A resubmission goes through the mailbox its recorded bytes were written for.
    const mailbox = await em(tenantId).findOne(MailboxSchema, {
      id: earlier?.mailboxId ?? mailboxId,
    });
    if (!mailbox) throw new NotFoundError('mailbox', mailboxId);
    // Its caller died mid-submission (the claim lapsed, no outcome): the provider's receipts
    // may say it took the message, and then it is not submitted a second time.
    const receipt =
      earlier?.submissionClaimedAt && earlier.messageId
        ? await receiptInMailbox(ctx, mailbox, earlier.messageId)
        : null;
    if (earlier && receipt)
      return { ...(await recordTakenBefore(tenantId, earlier, receipt)), replayed: true };
    const settings = smtpSettingsOf(mailbox, ctx);
    // Composed first, so a message refused for what it says spends no slot of the pace.
    const composed = await compose(mailbox, input, earlier);
    // Before anything is recorded: a send told to wait leaves nothing behind to clean up.
    // A mailbox without a limit (the usual case) takes no lock on its row for every send.
    const wait = mailbox.smtpMaxPerMinute
      ? await takeSendingSlot(ctx, tenantId, mailbox.id, keyed?.key)
      : 0;
    if (wait > 0)
      throw new SendingPacedError(
        mailbox.id,
        mailbox.smtpMaxPerMinute ?? 0,
        askAgainAfterMs(ctx, wait),
      );
    const row = await record(tenantId, mailbox, input, keyed, earlier, composed);
    return { settings, row, composed };
  }
}

/** The send stopped before anything reached the provider, for a reason not its own: ask again. */
export class SendNotStartedError extends PecTrackError {
  constructor(cause: Error) {
    super(
      'pec-send-not-started',
      503,
      `the send stopped before anything reached the provider (${cause.message}); ask again under the same key`,
      { transient: true },
    );
  }
}

/**
 * Nothing went to the provider yet, so an error that is not one of ours (the database busy, a
 * disk error while storing the bytes) is safe to try again as it is: said so, rather than left
 * for the caller to take as final (a send task's incident a person must retry).
 */
async function beforeSubmission<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof PecTrackError) throw error;
    throw new SendNotStartedError(error as Error);
  }
}

export type OutgoingServices = ReturnType<typeof outgoingServices>;

async function composeOrExplain(message: OutgoingPec) {
  try {
    return await composePec(message);
  } catch (error) {
    if (error instanceof OutgoingPecError)
      throw new BadRequestError('invalid-outgoing-pec', error.message, { field: error.field });
    throw error;
  }
}

async function recordSubmission(
  tx: EntityManager,
  tenantId: string,
  mailbox: Mailbox,
  messageId: string,
  input: SendInput,
  keyed: { key: string; fingerprint: string } | null,
  recipients: string[],
  stored: { sha256: string; size: number },
  now: Date,
): Promise<Message> {
  const tenant = tx.getReference(TenantSchema, tenantId);
  const row = tx.create(MessageSchema, {
    id: randomUUID(),
    tenant,
    direction: 'out',
    mailboxId: mailbox.id,
    folder: null,
    uid: null,
    dedupeKey: `out:${messageId}`,
    kind: 'outgoing',
    providerId: null,
    messageId,
    originalMessageId: null,
    subject: input.subject,
    sender: mailbox.address,
    recipients,
    sha256: stored.sha256,
    size: stored.size,
    signatureStatus: null,
    summary: {
      receiptType: input.receiptType ?? 'completa',
      attachments: (input.attachments ?? []).map((a) => a.filename),
    },
    problems: [],
    deliveryStatus: 'submitted',
    receivedAt: now,
    idempotencyKey: keyed?.key ?? null,
    requestFingerprint: keyed?.fingerprint ?? null,
    // Held until `submit` records the outcome: a repeat under the key meanwhile waits.
    submissionClaimedAt: now,
  });
  // Recipient rows reference the message by id only (no ORM relation): the message goes first.
  await tx.flush();
  for (const address of recipients) {
    tx.create(OutgoingRecipientSchema, {
      tenant,
      messageId: row.id,
      address,
      status: 'submitted',
      updatedAt: now,
    });
  }
  await tx.flush();
  return row;
}

/** What the submission did for one recipient: its state, and the step its history records. */
interface RecipientOutcome {
  status: DeliveryStatus;
  event: string;
  data: Record<string, unknown>;
}

/**
 * The recipients the provider refused at RCPT TO while taking the message for the others, each
 * failed with the provider's reply in its history (the reason a clerk gives the citizen).
 */
function refusedRecipients(result: SubmissionResult): Map<string, RecipientOutcome> {
  const replies = new Map(result.refusals.map((r) => [r.address.toLowerCase(), r]));
  return new Map(
    result.rejected.map((address) => {
      const refusal = replies.get(address.toLowerCase());
      const data = {
        error: refusal?.reply ?? 'refused by the provider',
        responseCode: refusal?.responseCode ?? null,
      };
      const outcome: RecipientOutcome = {
        status: 'failed',
        event: SUBMISSION_FAILED,
        data: refusal?.notTaken ? { ...data, notTaken: true } : data,
      };
      return [address.toLowerCase(), outcome];
    }),
  );
}

async function recordOutcome(
  tx: EntityManager,
  row: Message,
  recipients: string[],
  outcomeOf: (address: string) => RecipientOutcome,
  now: Date,
): Promise<SentMessage> {
  // Locked before the recipients are read, as applyReceipt does (receipts.ts).
  const message = await tx.findOneOrFail(
    MessageSchema,
    { id: row.id },
    { lockMode: LockMode.PESSIMISTIC_WRITE },
  );
  const rows = await tx.find(OutgoingRecipientSchema, { messageId: row.id });
  for (const recipient of rows) {
    const { status, event, data } = outcomeOf(recipient.address);
    // A receipt may already have moved this recipient on; the submission outcome never moves it back.
    if (recipient.status === 'submitted') recipient.status = status;
    recipient.updatedAt = now;
    tx.create(MessageEventSchema, {
      tenant: row.tenant,
      messageId: row.id,
      recipient: recipient.address,
      at: now,
      event,
      receiptMessageId: null,
      data,
    });
  }
  const statuses = rows.map((r) => r.status);
  message.deliveryStatus = messageStatus(statuses);
  message.submissionClaimedAt = null;
  await tx.flush();
  return {
    id: row.id,
    messageId: row.messageId ?? '',
    deliveryStatus: message.deliveryStatus ?? 'submitted',
    recipients: recipients.map((address) => ({
      address,
      status: rows.find((r) => r.address === address)?.status ?? 'submitted',
    })),
  };
}
