/**
 * The delivery feed: every step of the messages the tenant sent (submitted, each receipt per
 * recipient) in the order it was stored, a page at a time behind a cursor. A records system
 * that must file each delivery receipt with its register entry follows it instead of polling
 * every message it sent. The order is the commit order (commit-order.ts).
 */
import { MessageEventSchema, MessageSchema } from '../store/entities/message.js';
import { knexOf, tenantFork } from '../store/orm.js';
import { readPage, type FeedQuery } from './commit-order.js';
import type { IntakeContext } from './context.js';

export interface DeliveryEventView {
  /** The step's id, increasing within a node's commits (the cursor, not this, orders the feed). */
  id: number;
  /** The sent message (its id in the messages API) and its Message-ID. */
  messageId: string;
  sentMessageId: string | null;
  at: string;
  /** `submitted`, `submission-failed`, or the receipt's kind (`accettazione`, `avvenuta-consegna`…). */
  event: string;
  /** The recipient the step is about; null when it is about the whole message. */
  recipient: string | null;
  /** The receipt, when a receipt made the step: its `.eml` is at /messages/{id}/raw. */
  receiptMessageId: string | null;
  data: Record<string, unknown> | null;
}

export interface DeliveryFeedPage {
  events: DeliveryEventView[];
  /** Where the next page starts: the last step's position, or `after` when none is new. */
  cursor: string | null;
}

export function deliveryFeed(ctx: IntakeContext) {
  const knex = knexOf(ctx.orm);
  return {
    async read(tenantId: string, query: FeedQuery = {}): Promise<DeliveryFeedPage> {
      const page = await readPage(knex, 'message_event', tenantId, query, (ids) =>
        eventViews(ctx, tenantId, ids.map(Number)),
      );
      return { events: page.items, cursor: page.cursor };
    },
  };
}

/** The steps with these ids, in that order, each with its sent message's Message-ID. */
async function eventViews(
  ctx: IntakeContext,
  tenantId: string,
  ids: number[],
): Promise<DeliveryEventView[]> {
  const em = tenantFork(ctx.orm, tenantId);
  const events = await em.find(MessageEventSchema, { id: { $in: ids } });
  const sent = await em.find(
    MessageSchema,
    { id: { $in: [...new Set(events.map((e) => e.messageId))] } },
    { fields: ['id', 'messageId'] },
  );
  const messageIdOf = new Map(sent.map((m) => [m.id, m.messageId]));
  const byId = new Map(events.map((e) => [e.id, e]));
  return ids.map((id) => {
    const e = byId.get(id)!;
    return {
      id: e.id,
      messageId: e.messageId,
      sentMessageId: messageIdOf.get(e.messageId) ?? null,
      at: e.at.toISOString(),
      event: e.event,
      recipient: e.recipient,
      receiptMessageId: e.receiptMessageId,
      data: e.data,
    };
  });
}

export type DeliveryFeed = ReturnType<typeof deliveryFeed>;
