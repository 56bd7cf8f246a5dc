import type { Orm } from './orm.js';
import { knexOf } from './orm.js';

/** Creates the tenant row if it is missing (the configured tenant must exist before anything references it). */
export async function ensureTenant(orm: Orm, id: string, name = id): Promise<void> {
  // The platform stores dates its own way (epoch milliseconds on SQLite).
  const createdAt = orm.em.getPlatform().processDateProperty(new Date());
  await knexOf(orm)('tenant').insert({ id, name, created_at: createdAt }).onConflict('id').ignore();
}
