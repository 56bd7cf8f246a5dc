/**
 * The message feed: every message of a tenant in the order it was stored, a page at a time,
 * for another system that keeps a cursor and asks for what is new. `receivedAt` cannot serve:
 * a message the server dated earlier can be stored later (a mailbox synced after another), and
 * a poller moving along dates would skip it. The order is the commit order (commit-order.ts).
 */
import { MessageSchema } from '../store/entities/message.js';
import { knexOf, tenantFork } from '../store/orm.js';
import { readPage, type FeedQuery } from './commit-order.js';
import type { IntakeContext } from './context.js';
import { messageView, type MessageView } from './messages.js';

export { FeedQuery } from './commit-order.js';

export interface FeedPage {
  messages: MessageView[];
  /** Where the next page starts: the last message's position, or `after` when none is new. */
  cursor: string | null;
}

export function messageFeed(ctx: IntakeContext) {
  const knex = knexOf(ctx.orm);
  return {
    async read(tenantId: string, query: FeedQuery = {}): Promise<FeedPage> {
      const page = await readPage(knex, 'message', tenantId, query, async (ids) => {
        const rows = await tenantFork(ctx.orm, tenantId).find(MessageSchema, { id: { $in: ids } });
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => messageView(byId.get(id)!));
      });
      return { messages: page.items, cursor: page.cursor };
    },
  };
}

export type MessageFeed = ReturnType<typeof messageFeed>;
