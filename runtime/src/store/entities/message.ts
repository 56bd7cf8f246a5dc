import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';

export type MessageDirection = 'in' | 'out';

/**
 * Where a message we sent stands with one recipient (and, summed up, with all of them).
 * `external`: the provider handed it to an ordinary (non-PEC) address, so nothing certifies
 * its delivery and no receipt will come.
 */
export const DELIVERY_STATUSES = [
  'submitted',
  'accepted',
  'delivered',
  'failed',
  'timeout',
  'external',
] as const;

export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What a signature check records on a received message (the PEC parser's SignatureStatus). */
export const SIGNATURE_STATUSES = ['valid', 'intact-untrusted', 'invalid', 'unsigned'] as const;

/**
 * One certified (or plain, or unparseable) message, incoming or sent by us. The raw bytes
 * live in the blob store under `sha256`. `dedupeKey` is the provider id when there is one
 * (the same PEC reaching two of our mailboxes is one message), else the SHA-256 of the bytes.
 */
export interface Message {
  id: string;
  tenant: Tenant;
  direction: MessageDirection;
  mailboxId: string;
  folder: string | null;
  uid: number | null;
  dedupeKey: string;
  kind: string;
  providerId: string | null;
  /** Our Message-ID for outgoing mail; the header Message-ID for incoming. */
  messageId: string | null;
  /** The sender client's id a receipt or an envelope refers to (X-Riferimento-Message-ID / msgid). */
  originalMessageId: string | null;
  subject: string | null;
  sender: string | null;
  recipients: string[];
  sha256: string;
  size: number;
  signatureStatus: string | null;
  summary: Record<string, unknown>;
  problems: string[];
  deliveryStatus: DeliveryStatus | null;
  /**
   * Incoming: when the mailbox received it (IMAP INTERNALDATE), so a first sync of a backlog
   * keeps each message's date; when the server gives none, when it was stored. Outgoing: when
   * it was submitted.
   */
  receivedAt: Date;
  /** For outgoing mail: the asking call's idempotency key, so its retries send once. */
  idempotencyKey?: string | null;
  /**
   * For outgoing mail asked under a key: the SHA-256 of what was asked (intake/send-request.ts),
   * so a repeat asking for another message under the same key is refused.
   */
  requestFingerprint?: string | null;
  /**
   * For outgoing mail: set while a call is submitting it (until the outcome is recorded), so a
   * second call with the same key waits instead of submitting it too; a claim older than the
   * submission lease was left by a crash.
   */
  submissionClaimedAt?: Date | null;
}

export const MessageSchema = new EntitySchema<Message>({
  name: 'Message',
  tableName: 'message',
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    direction: { type: 'string', length: 8 },
    mailboxId: { type: 'string', length: 64 },
    folder: { type: 'string', nullable: true },
    uid: { type: 'integer', nullable: true },
    dedupeKey: { type: 'string' },
    kind: { type: 'string', length: 48 },
    providerId: { type: 'string', nullable: true },
    messageId: { type: 'string', nullable: true },
    originalMessageId: { type: 'string', nullable: true },
    subject: { type: 'text', nullable: true },
    sender: { type: 'string', nullable: true },
    recipients: { type: 'json' },
    sha256: { type: 'string', length: 64 },
    size: { type: 'integer' },
    signatureStatus: { type: 'string', length: 24, nullable: true },
    summary: { type: 'json' },
    problems: { type: 'json' },
    deliveryStatus: { type: 'string', length: 16, nullable: true },
    receivedAt: { type: 'datetime' },
    idempotencyKey: { type: 'string', nullable: true },
    requestFingerprint: { type: 'string', length: 64, nullable: true },
    submissionClaimedAt: { type: 'datetime', nullable: true },
  },
});

/** Delivery state of one recipient of a message we sent, moved by receipts. */
export interface OutgoingRecipient {
  id: number;
  tenant: Tenant;
  messageId: string;
  address: string;
  status: DeliveryStatus;
  updatedAt: Date;
}

export const OutgoingRecipientSchema = new EntitySchema<OutgoingRecipient>({
  name: 'OutgoingRecipient',
  tableName: 'outgoing_recipient',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    messageId: { type: 'string', length: 64 },
    address: { type: 'string' },
    status: { type: 'string', length: 16 },
    updatedAt: { type: 'datetime' },
  },
});

/** One step in a sent message's life (submitted, accepted, delivered...), with the receipt that caused it. */
export interface MessageEvent {
  id: number;
  tenant: Tenant;
  messageId: string;
  recipient: string | null;
  at: Date;
  event: string;
  receiptMessageId: string | null;
  data: Record<string, unknown> | null;
}

export const MessageEventSchema = new EntitySchema<MessageEvent>({
  name: 'MessageEvent',
  tableName: 'message_event',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    messageId: { type: 'string', length: 64 },
    recipient: { type: 'string', nullable: true },
    at: { type: 'datetime' },
    event: { type: 'string', length: 32 },
    receiptMessageId: { type: 'string', length: 64, nullable: true },
    data: { type: 'json', nullable: true },
  },
});

export const MESSAGE_ENTITIES = [MessageSchema, OutgoingRecipientSchema, MessageEventSchema];
