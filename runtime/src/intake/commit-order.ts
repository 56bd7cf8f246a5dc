/**
 * Reading a table in the order its rows were committed, a page at a time behind a cursor, for
 * the feeds other systems poll (feed.ts, delivery-feed.ts). A cursor never passes a row that
 * commits later:
 * - SQLite has one writer at a time, and its rowid follows commit order (a manual VACUUM may
 *   renumber rowids of a table without an INTEGER PRIMARY KEY: a consumer then starts over and
 *   drops the ids it has).
 * - PostgreSQL commits concurrently: each row records its transaction's id (`commit_xid`,
 *   defaulting to `pg_current_xact_id()`), and a page stops below the oldest transaction still
 *   running (the snapshot's xmin). A row whose transaction began earlier but commits later is
 *   then still ahead of the cursor; a long transaction delays the feed rather than losing rows.
 */
import type { Knex } from '@mikro-orm/knex';
import { z } from 'zod';
import { BadRequestError } from '../errors.js';

export const FeedQuery = z.object({
  /** The cursor a previous page returned; absent: from the first row stored. */
  after: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type FeedQuery = z.input<typeof FeedQuery>;

/** Where a row stands in commit order: the rowid (SQLite) or transaction id (PostgreSQL), and its id. */
interface Position {
  order: string;
  id: string;
}

/**
 * A page of `table` after the query's cursor: `load` turns the row ids into what the feed gives,
 * in the order asked. The cursor is the last row's position, or `after` when nothing is new.
 */
export async function readPage<T>(
  knex: Knex,
  table: string,
  tenantId: string,
  query: FeedQuery,
  load: (ids: string[]) => Promise<T[]>,
): Promise<{ items: T[]; cursor: string | null }> {
  const q = FeedQuery.parse(query);
  const after = q.after === undefined ? null : decodeCursor(q.after, table);
  const positions = await positionsAfter(knex, table, tenantId, after, q.limit);
  const last = positions.at(-1);
  if (!last) return { items: [], cursor: q.after ?? null };
  return { items: await load(positions.map((p) => p.id)), cursor: encodeCursor(last, table) };
}

/** The positions of up to `limit` rows of `table` after `after`, in commit order. */
async function positionsAfter(
  knex: Knex,
  table: string,
  tenantId: string,
  after: Position | null,
  limit: number,
): Promise<Position[]> {
  if (knex.client.driverName === 'better-sqlite3') {
    const rows = (await knex(table)
      .select({ order: 'rowid', id: 'id' })
      .where('tenant_id', tenantId)
      .andWhere('rowid', '>', after ? Number(after.order) : 0)
      .orderBy('rowid')
      .limit(limit)) as { order: number; id: string | number }[];
    return rows.map((row) => ({ order: String(row.order), id: String(row.id) }));
  }
  const query = knex(table)
    .select({ order: 'commit_xid', id: 'id' })
    .where('tenant_id', tenantId)
    .andWhereRaw('commit_xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint')
    .orderBy([{ column: 'commit_xid' }, { column: 'id' }])
    .limit(limit);
  if (after) query.andWhereRaw('(commit_xid, id) > (?::bigint, ?)', [after.order, after.id]);
  const rows = (await query) as { order: string | number; id: string | number }[];
  return rows.map((row) => ({ order: String(row.order), id: String(row.id) }));
}

/** The cursor names its table: one feed's cursor read as another's position would skip rows. */
function encodeCursor(position: Position, table: string): string {
  return Buffer.from(`${table}:${position.order}:${position.id}`).toString('base64url');
}

const CURSOR = /^(?:([a-z_]+):)?(\d{1,19}):([\w.-]{1,64})$/;
/** The largest position and row id the columns hold (bigint; message_event's integer id). */
const MAX_ORDER = 9223372036854775807n;
const MAX_EVENT_ID = 2147483647;

function decodeCursor(cursor: string, table: string): Position {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString());
  const [, named, order, id] = match ?? [];
  // Cursors given before they named their table: told apart by their id (an event's is a number).
  const sameTable =
    named === undefined ? /^\d+$/.test(id ?? '') === (table === 'message_event') : named === table;
  if (!match || !sameTable || BigInt(order!) > MAX_ORDER || !fitsId(id!, table))
    throw new BadRequestError('invalid-cursor', `cursor "${cursor}" is not one this feed gave`, {
      field: 'after',
    });
  return { order: order!, id: id! };
}

function fitsId(id: string, table: string): boolean {
  return table !== 'message_event' || (/^\d{1,10}$/.test(id) && Number(id) <= MAX_EVENT_ID);
}
