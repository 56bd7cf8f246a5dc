/**
 * Reading messages: list with filters, one message with its delivery history, the raw .eml
 * from the blob store, the text the sender wrote, and its attachments as the parser sees them.
 */
import type { Readable } from 'node:stream';
import { QueryOrder, raw, type FilterQuery } from '@mikro-orm/core';
import { originalAttachment, type AttachmentContent } from '@pectrack/connector-pec';
import { z } from 'zod';
import { NotFoundError } from '../errors.js';
import {
  DELIVERY_STATUSES,
  MessageEventSchema,
  MessageSchema,
  OutgoingRecipientSchema,
  SIGNATURE_STATUSES,
  type Message,
} from '../store/entities/message.js';
import { tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';
import { fromStoredBytes } from './stored-bytes.js';

/** An ISO instant both databases can hold: PostgreSQL has no year 0 (nor past 294276). */
const Instant = z.iso.datetime({ offset: true }).refine((value) => {
  const year = new Date(value).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, 'must be between the years 1 and 9999');

export const MessageFilter = z.object({
  mailboxId: z.string().min(1).max(64).optional(),
  direction: z.enum(['in', 'out']).optional(),
  kind: z.string().min(1).max(48).optional(),
  deliveryStatus: z.enum(DELIVERY_STATUSES).optional(),
  providerId: z.string().min(1).max(255).optional(),
  /** The sender's address (daticert mittente, else From), whatever its letter case. */
  sender: z.string().min(1).max(320).optional(),
  originalMessageId: z.string().min(1).max(255).optional(),
  signatureStatus: z.enum(SIGNATURE_STATUSES).optional(),
  receivedAfter: Instant.optional(),
  receivedBefore: Instant.optional(),
  limit: z.number().int().min(1).max(500).default(50),
  offset: z.number().int().min(0).default(0),
});
export type MessageFilter = z.input<typeof MessageFilter>;

/** A Message row as the API lists it: its columns without tenant, dedupe key and summary; dates as ISO text. */
export type MessageView = Pick<
  Message,
  | 'id'
  | 'direction'
  | 'mailboxId'
  | 'folder'
  | 'uid'
  | 'kind'
  | 'providerId'
  | 'messageId'
  | 'originalMessageId'
  | 'subject'
  | 'sender'
  | 'recipients'
  | 'sha256'
  | 'size'
  | 'signatureStatus'
  | 'deliveryStatus'
  | 'problems'
> & { receivedAt: string };

export interface MessageDetail extends MessageView {
  summary: Record<string, unknown>;
  delivery: { address: string; status: string; updatedAt: string }[];
  history: {
    at: string;
    event: string;
    recipient: string | null;
    receiptMessageId: string | null;
    data: Record<string, unknown> | null;
  }[];
}

export interface MessageBody {
  subject: string | null;
  text: string | null;
  html: string | null;
}

export interface MessagePart {
  index: number;
  filename: string | null;
  contentType: string;
  /** The charset its Content-Type declares; null when none. */
  charset: string | null;
  size: number;
  sha256: string;
}

export function messageView(m: Message): MessageView {
  return {
    id: m.id,
    direction: m.direction,
    mailboxId: m.mailboxId,
    folder: m.folder,
    uid: m.uid,
    kind: m.kind,
    providerId: m.providerId,
    messageId: m.messageId,
    originalMessageId: m.originalMessageId,
    subject: m.subject,
    sender: m.sender,
    recipients: m.recipients,
    sha256: m.sha256,
    size: m.size,
    signatureStatus: m.signatureStatus,
    deliveryStatus: m.deliveryStatus,
    problems: m.problems,
    receivedAt: m.receivedAt.toISOString(),
  };
}

export function messageQueries(ctx: IntakeContext) {
  const em = (tenantId: string) => tenantFork(ctx.orm, tenantId);
  const load = async (tenantId: string, id: string) => {
    const message = await em(tenantId).findOne(MessageSchema, { id });
    if (!message) throw new NotFoundError('message', id);
    return message;
  };
  const bytesOf = (message: Message) =>
    fromStoredBytes(message, () => ctx.blobs.read(message.sha256, message.size));

  return {
    async list(tenantId: string, filter: MessageFilter = {}): Promise<MessageView[]> {
      const f = MessageFilter.parse(filter);
      const where: FilterQuery<Message> = {};
      // A filter given is applied whatever its value: one skipped would answer every message.
      if (f.mailboxId !== undefined) where.mailboxId = f.mailboxId;
      if (f.direction !== undefined) where.direction = f.direction;
      if (f.kind !== undefined) where.kind = f.kind;
      if (f.deliveryStatus !== undefined) where.deliveryStatus = f.deliveryStatus;
      if (f.providerId !== undefined) where.providerId = f.providerId;
      // lower() on both sides: addresses arrive in any case, and the index is on lower(sender).
      if (f.sender !== undefined)
        Object.assign(where, {
          [raw((alias) => `lower(${alias}.sender)`)]: f.sender.toLowerCase(),
        });
      if (f.originalMessageId !== undefined) where.originalMessageId = f.originalMessageId;
      if (f.signatureStatus !== undefined) where.signatureStatus = f.signatureStatus;
      if (f.receivedAfter || f.receivedBefore) {
        where.receivedAt = {
          ...(f.receivedAfter ? { $gte: new Date(f.receivedAfter) } : {}),
          ...(f.receivedBefore ? { $lt: new Date(f.receivedBefore) } : {}),
        };
      }
      const rows = await em(tenantId).find(MessageSchema, where, {
        // Messages the server dated in the same second (or a whole backlog it did not date)
        // stay newest first by UID, then come the ones we sent (no UID). Said outright: left to
        // the database, PostgreSQL puts NULL first and SQLite last, listing the same data apart.
        orderBy: {
          receivedAt: QueryOrder.DESC,
          uid: QueryOrder.DESC_NULLS_LAST,
          id: QueryOrder.ASC,
        },
        limit: f.limit,
        offset: f.offset,
      });
      return rows.map(messageView);
    },

    async get(tenantId: string, id: string): Promise<MessageDetail> {
      const message = await load(tenantId, id);
      const fork = em(tenantId);
      const [recipients, events] = await Promise.all([
        fork.find(OutgoingRecipientSchema, { messageId: id }, { orderBy: { address: 'asc' } }),
        fork.find(MessageEventSchema, { messageId: id }, { orderBy: { id: 'asc' } }),
      ]);
      return {
        ...messageView(message),
        summary: message.summary,
        delivery: recipients.map((r) => ({
          address: r.address,
          status: r.status,
          updatedAt: r.updatedAt.toISOString(),
        })),
        history: events.map((e) => ({
          at: e.at.toISOString(),
          event: e.event,
          recipient: e.recipient,
          receiptMessageId: e.receiptMessageId,
          data: e.data,
        })),
      };
    },

    /** The exact bytes as received (or sent), streamed from the blob store. */
    async raw(
      tenantId: string,
      id: string,
    ): Promise<{ stream: Readable; size: number; filename: string }> {
      const message = await load(tenantId, id);
      return {
        // Opened here, before the answer's headers: bytes gone are still a problem, not a 200.
        stream: await fromStoredBytes(message, () => ctx.blobs.open(message.sha256)),
        size: message.size,
        filename: `${message.id}.eml`,
      };
    },

    /**
     * The text and HTML of the message the sender wrote: intake keeps only its outline, so the
     * body is read from the raw .eml (the full parse, on a parse worker).
     */
    async body(tenantId: string, id: string): Promise<MessageBody> {
      const message = await load(tenantId, id);
      const envelope = await ctx.parse(await bytesOf(message), { inner: 'full' });
      return {
        subject: envelope.inner?.subject ?? null,
        text: envelope.inner?.text ?? null,
        html: envelope.inner?.html ?? null,
      };
    },

    /** Attachment `index` of the message the sender wrote, decoded, as `parts` lists it. */
    async part(tenantId: string, id: string, index: number): Promise<AttachmentContent> {
      const message = await load(tenantId, id);
      const part = originalAttachment(await bytesOf(message), index);
      if (!part) throw new NotFoundError('attachment', `${index} of message ${id}`);
      return part;
    },

    /** The attachments of the message the sender wrote (postacert.eml's, for a certified message). */
    async parts(tenantId: string, id: string): Promise<MessagePart[]> {
      const message = await load(tenantId, id);
      const envelope = await ctx.parse(await bytesOf(message));
      return (envelope.inner?.attachments ?? []).map((a, index) => ({
        index,
        filename: a.filename,
        contentType: a.contentType,
        charset: a.charset,
        size: a.size,
        sha256: a.sha256,
      }));
    },
  };
}

export type MessageQueries = ReturnType<typeof messageQueries>;
