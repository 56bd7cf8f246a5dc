/**
 * Opens the database through MikroORM: better-sqlite (a WAL-mode file) or PostgreSQL.
 * The ORM owns the schema, migrations and general queries; the command path writes
 * through store/commands (a lean writer on the same connection).
 */
import { MikroORM, type EntityManager, type Options } from '@mikro-orm/core';
import type { AbstractSqlDriver, Knex } from '@mikro-orm/knex';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { DatabaseConfig } from '../config.js';
import { ENTITIES, TENANT_SCOPED } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';

export type Orm = MikroORM<AbstractSqlDriver>;

export const knexOf = (orm: Orm): Knex => orm.em.getConnection().getKnex();

export const TENANT_FILTER = 'tenant';

/** A fresh EntityManager whose every query is scoped to `tenantId` (ARCHITECTURE §4). */
export function tenantFork(orm: Orm, tenantId: string): EntityManager {
  const em = orm.em.fork({ clear: true });
  em.setFilterParams(TENANT_FILTER, { tenantId });
  return em;
}

export async function openOrm(
  database: DatabaseConfig,
  options: { debug?: boolean } = {},
): Promise<Orm> {
  const common: Options = {
    entities: ENTITIES,
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    filters: {
      [TENANT_FILTER]: {
        // Every query names its tenant (ARCHITECTURE §4): without params the ORM refuses to run it.
        cond: (args: { tenantId: string }) => ({ tenant: args.tenantId }),
        entity: TENANT_SCOPED.map((schema) => schema.meta.className),
        default: true,
      },
    },
    debug: options.debug ?? false,
    allowGlobalContext: false,
  };
  if (database.kind === 'postgresql') {
    const orm = await MikroORM.init({
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: database.url,
      pool: { min: 1, max: 10 },
    });
    return orm as unknown as Orm;
  }
  const orm = (await MikroORM.init({
    ...common,
    driver: BetterSqliteDriver,
    dbName: database.file,
  })) as unknown as Orm;
  await applySqlitePragmas(orm);
  return orm;
}

/** WAL lets readers run beside the writer; NORMAL syncs at checkpoints, not every commit. */
async function applySqlitePragmas(orm: Orm): Promise<void> {
  const knex = knexOf(orm);
  await knex.raw('pragma journal_mode = WAL');
  await knex.raw('pragma synchronous = NORMAL');
  await knex.raw('pragma busy_timeout = 5000');
  // The command path's indexes stay in memory instead of being re-read from the OS each batch.
  await knex.raw('pragma cache_size = -32768');
}

export async function migrate(orm: Orm): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
