/**
 * What one keyed send asked for, and who is submitting it. A caller that did not see the answer
 * to a send (a REST client whose connection dropped, a job retried after a crash) asks again
 * under the same idempotency key; the draft IETF Idempotency-Key rules decide the answer:
 * the same request again gets the message already sent, a different request under the key is
 * refused (422), and a repeat while the first call is still submitting is told to wait (409),
 * never submitted a second time.
 */
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { PecTrackError } from '../errors.js';
import { MessageSchema, type Message } from '../store/entities/message.js';
import type { SendInput } from './outgoing.js';

/** A repeat under the key while another call holds the submission: ask again later. */
export class SendInProgressError extends PecTrackError {
  constructor(
    messageId: string | null,
    readonly retryAfterMs: number,
  ) {
    super(
      'send-in-progress',
      409,
      `another call is submitting the message of this idempotency key${messageId ? ` (${messageId})` : ''}; ask again in ${Math.ceil(retryAfterMs / 1000)} s to get its outcome`,
      { retryAfterMs, ...(messageId && { messageId }) },
    );
  }
}

/** The key already names a message that asked for something else. */
export class IdempotencyKeyReusedError extends PecTrackError {
  /** `mayBeCertified`: a replacement was asked for, but the provider may have taken the earlier message. */
  constructor(earlier: Message, mayBeCertified = false) {
    const which = `${earlier.messageId ?? earlier.id}, subject "${earlier.subject ?? ''}"`;
    super(
      'idempotency-key-reused',
      422,
      mayBeCertified
        ? `this call already sent another message (${which}) and the provider may have certified it, so a corrected one is not sent in its place: see the message's delivery history, and send the corrected one from a new task`
        : `this idempotency key was used for another message (${which}): a key names one send; use a new key for a new message`,
      { field: 'idempotencyKey', id: earlier.id, messageId: earlier.messageId },
    );
  }
}

/**
 * The SHA-256 of everything the send asked for, attachments by their content's hash: the same
 * request always gives the same fingerprint, any change of mailbox, recipient, text or file
 * another one.
 */
export function requestFingerprint(mailboxId: string, input: SendInput): string {
  const canonical = {
    mailboxId,
    to: input.to.map((address) => address.toLowerCase()),
    cc: (input.cc ?? []).map((address) => address.toLowerCase()),
    subject: input.subject,
    text: input.text,
    html: input.html ?? null,
    receiptType: input.receiptType ?? null,
    attachments: (input.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType ?? null,
      sha256: createHash('sha256').update(a.content).digest('hex'),
    })),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** Whether a repeat asks for the recorded message; rows recorded before fingerprints do. */
export function isSameRequest(earlier: Message, fingerprint: string): boolean {
  return !earlier.requestFingerprint || earlier.requestFingerprint === fingerprint;
}

/** Refuses a repeat that asks for another message. */
export function checkSameRequest(earlier: Message, fingerprint: string): void {
  if (!isSameRequest(earlier, fingerprint)) throw new IdempotencyKeyReusedError(earlier);
}

/** How long until a claim on `row` lapses; 0 when there is none or it already has. */
export function claimRemainingMs(row: Message, now: Date, leaseMs: number): number {
  const claimed = row.submissionClaimedAt;
  if (!claimed) return 0;
  return Math.max(0, new Date(claimed).getTime() + leaseMs - now.getTime());
}

/**
 * Takes the submission of an earlier, never-accepted message: only when nobody holds it, or the
 * holder's lease ran out (it crashed before recording an outcome). One conditional update, so
 * of two calls at the same moment exactly one wins.
 */
export async function claimSubmission(
  tx: EntityManager,
  row: Message,
  now: Date,
  leaseMs: number,
): Promise<boolean> {
  const lapsed = new Date(now.getTime() - leaseMs);
  const updated = await tx.nativeUpdate(
    MessageSchema,
    {
      id: row.id,
      $or: [{ submissionClaimedAt: null }, { submissionClaimedAt: { $lt: lapsed } }],
    },
    { submissionClaimedAt: now },
  );
  return updated === 1;
}
