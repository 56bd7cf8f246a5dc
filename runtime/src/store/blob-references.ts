/**
 * Which blobs rows still refer to: a message's raw bytes, an uploaded file's. Across tenants
 * and without the ORM's tenant filter, because blobs are named by content and so shared: a
 * deleted upload's bytes may be another tenant's message.
 */
import { knexOf, type Orm } from './orm.js';

/** The tables naming a blob in their `sha256` column. */
const REFERRING_TABLES = ['message', 'uploaded_file'];

export async function referencedBlobs(orm: Orm, sha256s: string[]): Promise<Set<string>> {
  if (sha256s.length === 0) return new Set();
  const knex = knexOf(orm);
  const [first, ...rest] = REFERRING_TABLES.map((table) =>
    knex(table).distinct('sha256').whereIn('sha256', sha256s),
  );
  const rows: { sha256: string }[] = await first!.union(rest);
  return new Set(rows.map((row) => row.sha256));
}
