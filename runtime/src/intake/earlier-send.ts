/**
 * What a retried send finds of its earlier attempt, looked up by the caller's idempotency key:
 * the outgoing Message row, whether the provider ever accepted it, and its bytes to submit again
 * under the same Message-ID.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { ComposedPec } from '@pectrack/connector-pec';
import { BadRequestError } from '../errors.js';
import {
  MessageEventSchema,
  MessageSchema,
  OutgoingRecipientSchema,
  type DeliveryStatus,
  type Message,
} from '../store/entities/message.js';
import type { BlobStore } from '../store/blobs.js';
import { RECEIPT_NOT_APPLIED } from './receipts.js';

/** Message events recording the submission's outcome. */
export const SUBMITTED = 'submitted';
export const SUBMISSION_FAILED = 'submission-failed';

/** The column is a plain varchar (255 on both databases). */
const MAX_KEY_LENGTH = 255;

export interface SentMessage {
  id: string;
  messageId: string;
  deliveryStatus: DeliveryStatus;
  recipients: { address: string; status: DeliveryStatus }[];
}

export function checkedIdempotencyKey(key: string): string {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new BadRequestError(
      'invalid-idempotency-key',
      `idempotencyKey must be 1 to ${MAX_KEY_LENGTH} characters, got ${key.length}`,
      { field: 'idempotencyKey' },
    );
  }
  return key;
}

/** `em` carries the tenant filter, so the key is looked up within the caller's tenant only. */
export function findEarlierSend(em: EntityManager, key: string): Promise<Message | null> {
  return em.findOne(MessageSchema, { direction: 'out', idempotencyKey: key });
}

/**
 * Whether the provider took the message: any event but a failed submission (the submission's
 * own `submitted`, or a receipt correlated while the outcome was still unrecorded) means a
 * certified message exists and must not be sent again. A receipt that did not count is no sign:
 * anyone can forge one.
 */
export async function wasSubmitted(em: EntityManager, row: Message): Promise<boolean> {
  const taken = await em.count(MessageEventSchema, {
    messageId: row.id,
    // `anomalia`: steps earlier versions wrote for an anomaly envelope naming our Message-ID.
    event: { $nin: [SUBMISSION_FAILED, RECEIPT_NOT_APPLIED, 'anomalia'] },
  });
  return taken > 0;
}

/**
 * Whether the provider certainly never took the message: every submission attempt was refused
 * before the message data went out (or never reached it), for every recipient. Only then may
 * a corrected message replace it without two being certified.
 */
export async function neverTaken(em: EntityManager, row: Message): Promise<boolean> {
  const events = await em.find(MessageEventSchema, {
    messageId: row.id,
    event: { $nin: [RECEIPT_NOT_APPLIED, 'anomalia'] },
  });
  return (
    events.length > 0 &&
    events.every((e) => e.event === SUBMISSION_FAILED && e.data?.notTaken === true)
  );
}

/** The history step of a message whose key went to the corrected request that replaced it. */
export const REPLACED = 'replaced';

/**
 * Frees the key for the corrected request: the refused message stays, failed, with a step in
 * its history saying which key it no longer holds.
 */
export async function replaceWithCorrected(
  tx: EntityManager,
  row: Message,
  key: string,
  now: Date,
): Promise<void> {
  const message = await tx.findOneOrFail(MessageSchema, { id: row.id });
  message.idempotencyKey = null;
  message.submissionClaimedAt = null;
  tx.create(MessageEventSchema, {
    tenant: message.tenant,
    messageId: message.id,
    recipient: null,
    at: now,
    event: REPLACED,
    receiptMessageId: null,
    data: { idempotencyKey: key },
  });
  await tx.flush();
}

export async function sentMessageOf(em: EntityManager, row: Message): Promise<SentMessage> {
  const states = await em.find(OutgoingRecipientSchema, { messageId: row.id });
  return {
    id: row.id,
    messageId: row.messageId ?? '',
    deliveryStatus: row.deliveryStatus ?? 'submitted',
    recipients: row.recipients.map((address) => ({
      address,
      status: states.find((s) => s.address === address)?.status ?? 'submitted',
    })),
  };
}

/**
 * Puts a never-accepted message back to `submitted` before it goes out again: its recipients can
 * only be `failed` by an earlier refused submission, as no receipt exists for mail never taken.
 */
export async function reopenForSubmission(
  tx: EntityManager,
  row: Message,
  now: Date,
): Promise<Message> {
  const message = await tx.findOneOrFail(MessageSchema, { id: row.id });
  message.deliveryStatus = 'submitted';
  for (const recipient of await tx.find(OutgoingRecipientSchema, { messageId: row.id })) {
    recipient.status = 'submitted';
    recipient.updatedAt = now;
  }
  await tx.flush();
  return message;
}

/** The exact bytes recorded the first time, so the provider sees the same Message-ID. */
export async function recomposed(blobs: BlobStore, row: Message): Promise<ComposedPec> {
  return {
    raw: await blobs.read(row.sha256, row.size),
    messageId: row.messageId ?? '',
    envelope: { from: row.sender ?? '', to: row.recipients },
  };
}
