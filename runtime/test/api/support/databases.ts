/**
 * The databases the API suites run on: SQLite always, PostgreSQL when a server
 * answers on 127.0.0.1:5432 (skipped loudly otherwise, and required in CI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseConfig } from '../../../src/config.js';

export interface TestDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

const PG_ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

export const servicesRequired = process.env.CI === 'true' || process.env.PECTRACK_REQUIRE_SERVICES === '1';

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ ...PG_ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgresAvailable = await postgresAnswers();
if (!postgresAvailable && !servicesRequired) {
  console.warn('\n*** PostgreSQL is not reachable on 127.0.0.1:5432: the API suites run on SQLite only ***\n');
}

/** Kinds to run; PostgreSQL is listed when required even if absent, so the suite fails instead of skipping. */
export const DATABASE_KINDS: DatabaseConfig['kind'][] =
  postgresAvailable || servicesRequired ? ['sqlite', 'postgresql'] : ['sqlite'];

export async function createTestDatabase(kind: DatabaseConfig['kind']): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'pectrack-api-'));
    return {
      config: { kind: 'sqlite', file: join(dir, 'pectrack.sqlite') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `pectrack_api_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(PG_ADMIN);
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    config: { kind: 'postgresql', url: `postgres://postgres@127.0.0.1:5432/${name}` },
    drop: async () => {
      const client = new pg.Client(PG_ADMIN);
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
