/**
 * /api/v1/messages: the PEC messages received and sent (list, filter, one with its delivery
 * history, the raw .eml, the sender's text, its attachments). Named apart from messages.ts, which correlates BPMN messages.
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { Intake } from '../../intake/index.js';
import { FeedQuery } from '../../intake/feed.js';
import { MessageFilter } from '../../intake/messages.js';
import { ReparseSelection } from '../../intake/reparse.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { declaredContentType } from '../http/media-type.js';
import type { ProblemDoc } from '../openapi/catalog.js';
import { queryInteger } from '../query-integer.js';
import { IdParams } from '../schemas.js';

const MessageView = z.object({
  id: z.string(),
  direction: z.enum(['in', 'out']),
  mailboxId: z.string(),
  folder: z.string().nullable(),
  uid: z.number().int().nullable(),
  kind: z.string(),
  providerId: z.string().nullable(),
  messageId: z.string().nullable(),
  originalMessageId: z.string().nullable(),
  subject: z.string().nullable(),
  sender: z.string().nullable(),
  recipients: z.array(z.string()),
  sha256: z.string(),
  size: z.number().int(),
  signatureStatus: z.string().nullable(),
  deliveryStatus: z.string().nullable(),
  problems: z.array(z.string()),
  receivedAt: z.string(),
});

const MessageDetail = MessageView.extend({
  summary: z.record(z.string(), z.unknown()),
  delivery: z.array(z.object({ address: z.string(), status: z.string(), updatedAt: z.string() })),
  history: z.array(
    z.object({
      at: z.string(),
      event: z.string(),
      recipient: z.string().nullable(),
      receiptMessageId: z.string().nullable(),
      data: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
});

const DeliveryEvent = z.object({
  id: z.number().int(),
  messageId: z.string(),
  sentMessageId: z.string().nullable(),
  at: z.string(),
  event: z.string(),
  recipient: z.string().nullable(),
  receiptMessageId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

const MessagePart = z.object({
  index: z.number().int(),
  filename: z.string().nullable(),
  contentType: z.string(),
  charset: z
    .string()
    .nullable()
    .describe('The charset its Content-Type declares (lower case), null when none'),
  size: z.number().int(),
  sha256: z.string(),
});

const MessageBody = z.object({
  subject: z.string().nullable(),
  text: z.string().nullable(),
  html: z.string().nullable(),
});

const Reading = z.object({
  kind: z.string(),
  providerId: z.string().nullable(),
  signatureStatus: z.string().nullable(),
  problems: z.array(z.string()),
});

const ReparseResult = z.object({
  id: z.string(),
  changed: z.boolean(),
  before: Reading,
  after: Reading,
  caseOpened: z.boolean(),
  receiptApplied: z.boolean(),
  duplicateOf: z.string().nullable(),
});

const ReparseBatch = z.object({
  examined: z.number().int(),
  changed: z.number().int(),
  casesOpened: z.number().int(),
  receiptsApplied: z.number().int(),
  results: z.array(ReparseResult),
  failed: z.array(z.object({ id: z.string(), reason: z.string() })),
  next: z.string().nullable(),
});

/** What reading a message's stored bytes may answer besides the message itself. */
const BYTES_UNREADABLE: ProblemDoc[] = [
  {
    status: 409,
    description:
      'message-bytes-missing: the bytes of the message are no longer in the blob store; message-bytes-damaged: they no longer hash to their SHA-256 (the row is kept either way)',
  },
];

const PartParams = IdParams.extend({
  index: queryInteger(z.number().int().min(0).max(100_000)),
});

/** The list's filter as a query string carries it; its bounds and defaults are the list's own. */
const MessageQuery = MessageFilter.extend({
  limit: queryInteger(MessageFilter.shape.limit),
  offset: queryInteger(MessageFilter.shape.offset),
});

/** A feed's page as a query string asks for it; its bounds and default are the feed's own. */
const FeedPageQuery = FeedQuery.extend({ limit: queryInteger(FeedQuery.shape.limit) });

export function pecMessageEndpoints(intake: Intake): Endpoint[] {
  return [
    endpoint(
      {
        method: 'get',
        path: '/messages',
        operationId: 'listPecMessages',
        summary:
          'PEC messages, newest first, filtered by mailbox, direction, kind, delivery or signature status, ids, dates',
        permission: 'pec:read',
        query: MessageQuery,
        success: {
          status: 200,
          description: 'Messages',
          contentType: 'application/json',
          schema: z.array(MessageView),
        },
      },
      async ({ actor, query }) => intake.messages.list(actor.tenantId, query),
    ),
    // Before /messages/:id, which would take "feed" or "delivery-feed" for an id.
    endpoint(
      {
        method: 'get',
        path: '/messages/feed',
        operationId: 'feedPecMessages',
        summary:
          'Every message in the order it was stored, a page at a time: pass the cursor a page returns to get what came after it',
        permission: 'pec:read',
        query: FeedPageQuery,
        success: {
          status: 200,
          description: 'A page of the feed',
          contentType: 'application/json',
          schema: z.object({ messages: z.array(MessageView), cursor: z.string().nullable() }),
        },
      },
      async ({ actor, query }) => intake.feed.read(actor.tenantId, query),
    ),
    endpoint(
      {
        method: 'get',
        path: '/messages/delivery-feed',
        operationId: 'feedPecDeliveries',
        summary:
          'Every step of the messages sent (submission, each receipt per recipient) in the order it was stored, a page at a time behind a cursor',
        permission: 'pec:read',
        query: FeedPageQuery,
        success: {
          status: 200,
          description: 'A page of the delivery feed',
          contentType: 'application/json',
          schema: z.object({ events: z.array(DeliveryEvent), cursor: z.string().nullable() }),
        },
      },
      async ({ actor, query }) => intake.deliveryFeed.read(actor.tenantId, query),
    ),
    endpoint(
      {
        method: 'get',
        path: '/messages/:id',
        operationId: 'getPecMessage',
        summary:
          'One message with its parse summary and, when we sent it, its delivery state and history',
        permission: 'pec:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'Message',
          contentType: 'application/json',
          schema: MessageDetail,
        },
      },
      async ({ actor, params }) => intake.messages.get(actor.tenantId, params.id),
    ),
    endpoint(
      {
        method: 'get',
        path: '/messages/:id/raw',
        operationId: 'downloadPecMessage',
        summary: 'The exact bytes of the message (.eml)',
        permission: 'pec:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'The raw message',
          contentType: 'message/rfc822',
          schema: z.string(),
        },
        problems: BYTES_UNREADABLE,
      },
      async ({ ctx, actor, params }) => {
        const raw = await intake.messages.raw(actor.tenantId, params.id);
        ctx.set('Content-Disposition', `attachment; filename="${raw.filename}"`);
        ctx.length = raw.size;
        return raw.stream;
      },
    ),
    endpoint(
      {
        method: 'get',
        path: '/messages/:id/parts',
        operationId: 'listPecMessageParts',
        summary: 'The attachments of the message the sender wrote',
        permission: 'pec:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'Parts',
          contentType: 'application/json',
          schema: z.array(MessagePart),
        },
        problems: BYTES_UNREADABLE,
      },
      async ({ actor, params }) => intake.messages.parts(actor.tenantId, params.id),
    ),
    endpoint(
      {
        method: 'get',
        path: '/messages/:id/parts/:index',
        operationId: 'downloadPecMessagePart',
        summary: 'One attachment of the message the sender wrote, decoded, with its own media type',
        permission: 'pec:read',
        params: PartParams,
        success: {
          status: 200,
          description:
            'The attachment, with the media type and charset it declares (application/octet-stream when its type is not type/subtype)',
          contentType: '*/*',
          schema: z.string(),
        },
        problems: BYTES_UNREADABLE,
      },
      async ({ ctx, actor, params }) => {
        const part = await intake.messages.part(actor.tenantId, params.id, params.index);
        ctx.attachment(part.filename ?? `allegato-${params.index}`);
        // Set whole, not as ctx.type: Koa would give a text type declaring no charset its own
        // (utf-8), and a client would read a Latin-1 file in it.
        ctx.set('Content-Type', declaredContentType(part.contentType, part.charset));
        // The media type is the sender's word: a browser must not render it as anything else.
        ctx.set('X-Content-Type-Options', 'nosniff');
        // Decoded as it is sent: the attachment is never whole in memory.
        return Readable.from(part.chunks, { objectMode: false });
      },
    ),
    endpoint(
      {
        method: 'get',
        path: '/messages/:id/body',
        operationId: 'getPecMessageBody',
        summary: 'The text and HTML of the message the sender wrote',
        permission: 'pec:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'Body',
          contentType: 'application/json',
          schema: MessageBody,
        },
        problems: BYTES_UNREADABLE,
      },
      async ({ actor, params }) => intake.messages.body(actor.tenantId, params.id),
    ),
    // Reading again is the operator's call (the mailboxes' managers): it can open cases.
    endpoint(
      {
        method: 'post',
        path: '/messages/:id/reparse',
        operationId: 'reparsePecMessage',
        summary:
          'Reads a received message again from its stored bytes (after a parser fix, or trust anchors configured since): the row takes the new reading, and a message now read as certified opens its case, a receipt moves the message it refers to',
        permission: 'mailboxes:manage',
        params: IdParams,
        success: {
          status: 200,
          description: 'What the message was read as before and now, and what followed',
          contentType: 'application/json',
          schema: ReparseResult,
        },
        problems: [
          {
            status: 409,
            description:
              'The message keeps its reading: message-bytes-missing (its bytes are no longer in the blob store), message-bytes-damaged (they no longer hash to their SHA-256), reparse-failed (the parser failed on it), recorded-without-content (the server never returned it whole), conflict (we sent it)',
          },
        ],
      },
      async ({ actor, params }) => intake.reparse.one(actor.tenantId, params.id),
    ),
    endpoint(
      {
        method: 'post',
        path: '/messages/reparse',
        operationId: 'reparsePecMessages',
        summary:
          'Reads again the received messages a selection names (by kind, signature status, mailbox), in id order a page at a time: pass `next` as `after` for the following page',
        permission: 'mailboxes:manage',
        body: ReparseSelection,
        success: {
          status: 200,
          description: 'The page read again, counted',
          contentType: 'application/json',
          schema: ReparseBatch,
        },
      },
      async ({ actor, body }) => intake.reparse.many(actor.tenantId, body),
    ),
  ];
}
