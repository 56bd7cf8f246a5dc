/**
 * The message feed: every message of a tenant in the order it was stored, a page at a time,
 * for another system that keeps a cursor and asks for what is new. `receivedAt` cannot serve:
 * a message the server dated earlier can be stored later (a mailbox synced after another), and
 * a poller moving along dates would skip it.
 *
 * The order is the commit order, so a cursor never passes a message that commits later:
 * - SQLite has one writer at a time, and its rowid follows commit order (a manual VACUUM may
 *   renumber rowids of a table without an INTEGER PRIMARY KEY: a consumer then starts over and
 *   drops the ids it has).
 * - PostgreSQL commits concurrently: each row records its transaction's id, and a page stops
 *   below the oldest transaction still running (the snapshot's xmin). A message whose
 *   transaction began earlier but commits later is then still ahead of the cursor; a long
 *   transaction delays the feed rather than losing rows from it.
 */
import { z } from 'zod';
import { BadRequestError } from '../errors.js';
import { MessageSchema } from '../store/entities/message.js';
import { knexOf, tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';
import { messageView, type MessageView } from './messages.js';

export const FeedQuery = z.object({
  /** The cursor a previous page returned; absent: from the first message stored. */
  after: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type FeedQuery = z.input<typeof FeedQuery>;

export interface FeedPage {
  messages: MessageView[];
  /** Where the next page starts: the last message's position, or `after` when none is new. */
  cursor: string | null;
}

interface Position {
  order: string;
  id: string;
}

export function messageFeed(ctx: IntakeContext) {
  const knex = knexOf(ctx.orm);
  const sqlite = knex.client.driverName === 'better-sqlite3';

  async function positionsAfter(
    tenantId: string,
    after: Position | null,
    limit: number,
  ): Promise<Position[]> {
    if (sqlite) {
      const rows = (await knex('message')
        .select({ order: 'rowid', id: 'id' })
        .where('tenant_id', tenantId)
        .andWhere('rowid', '>', after ? Number(after.order) : 0)
        .orderBy('rowid')
        .limit(limit)) as { order: number; id: string }[];
      return rows.map((row) => ({ order: String(row.order), id: row.id }));
    }
    const query = knex('message')
      .select({ order: 'commit_xid', id: 'id' })
      .where('tenant_id', tenantId)
      .andWhereRaw('commit_xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint')
      .orderBy([{ column: 'commit_xid' }, { column: 'id' }])
      .limit(limit);
    if (after) query.andWhereRaw('(commit_xid, id) > (?::bigint, ?)', [after.order, after.id]);
    const rows = (await query) as { order: string | number; id: string }[];
    return rows.map((row) => ({ order: String(row.order), id: row.id }));
  }

  return {
    async read(tenantId: string, query: FeedQuery = {}): Promise<FeedPage> {
      const q = FeedQuery.parse(query);
      const after = q.after === undefined ? null : decodeCursor(q.after);
      const positions = await positionsAfter(tenantId, after, q.limit);
      const last = positions.at(-1);
      if (!last) return { messages: [], cursor: q.after ?? null };
      const rows = await tenantFork(ctx.orm, tenantId).find(MessageSchema, {
        id: { $in: positions.map((p) => p.id) },
      });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return {
        messages: positions.map((p) => messageView(byId.get(p.id)!)),
        cursor: encodeCursor(last),
      };
    },
  };
}

export type MessageFeed = ReturnType<typeof messageFeed>;

function encodeCursor(position: Position): string {
  return Buffer.from(`${position.order}:${position.id}`).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^(\d{1,19}):([\w.-]{1,64})$/.exec(text);
  if (!match)
    throw new BadRequestError('invalid-cursor', `cursor "${cursor}" is not one this feed gave`, {
      field: 'after',
    });
  return { order: match[1]!, id: match[2]! };
}
