import type { Orm } from './orm.js';
import { knexOf } from './orm.js';

/** Creates the tenant row if it is missing (the configured tenant must exist before anything references it). */
export async function ensureTenant(orm: Orm, id: string, name = id, sqlite = false): Promise<void> {
  await knexOf(orm)('tenant')
    .insert({ id, name, created_at: sqlite ? Date.now() : new Date() })
    .onConflict('id')
    .ignore();
}
