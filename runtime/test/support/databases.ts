/**
 * The databases the service-level suites run on: SQLite (a file in a temporary directory)
 * and PostgreSQL (a uniquely named database created for the run and dropped after).
 * PostgreSQL that cannot be reached skips its suites loudly, unless CI=true or
 * PECTRACK_REQUIRE_SERVICES=1, where it fails them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseConfig, RuntimeConfig } from '../../src/config.js';
import { runAdminStatement } from '../../src/store/pg-admin.js';

export interface TestDatabase {
  kind: DatabaseConfig['kind'];
  /** False only for a PostgreSQL that is not there while not required: the suite is skipped. */
  available: boolean;
  /** A fresh, empty database and the way to throw it away. */
  create(): Promise<{ config: RuntimeConfig; drop(): Promise<void> }>;
}

const PG_ADMIN_URL =
  process.env.PECTRACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const servicesRequired = (): boolean =>
  process.env.CI === 'true' || process.env.PECTRACK_REQUIRE_SERVICES === '1';

export async function testDatabases(): Promise<TestDatabase[]> {
  return [sqlite(), await postgresql()];
}

function sqlite(): TestDatabase {
  return {
    kind: 'sqlite',
    available: true,
    async create() {
      const dataDir = await mkdtemp(join(tmpdir(), 'pectrack-test-'));
      return {
        config: runtimeConfig(dataDir, { kind: 'sqlite', file: join(dataDir, 'pectrack.sqlite') }),
        drop: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  };
}

async function postgresql(): Promise<TestDatabase> {
  const problem = await reachPostgres();
  if (problem) {
    const message = `PostgreSQL at ${PG_ADMIN_URL} is not reachable (${problem})`;
    if (servicesRequired())
      throw new Error(`${message}; CI=true or PECTRACK_REQUIRE_SERVICES=1 requires it`);
    console.warn(`\n!!! SKIPPING the PostgreSQL service suites: ${message}.\n`);
  }
  return {
    kind: 'postgresql',
    available: !problem,
    async create() {
      const name = `pectrack_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
      await admin(`create database ${name}`);
      const url = new URL(PG_ADMIN_URL);
      url.pathname = `/${name}`;
      const dataDir = await mkdtemp(join(tmpdir(), 'pectrack-test-'));
      return {
        config: runtimeConfig(dataDir, { kind: 'postgresql', url: url.toString() }),
        async drop() {
          await dropWhenIdle(name);
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}

function runtimeConfig(dataDir: string, database: DatabaseConfig): RuntimeConfig {
  return { dataDir, database, port: 0, logLevel: 'silent', tenant: 'default' };
}

/** Closed pools hang up asynchronously: wait for them rather than cut them off mid-goodbye. */
async function dropWhenIdle(name: string): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    try {
      await admin(`drop database if exists ${name}`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await admin(`drop database if exists ${name} with (force)`);
}

async function reachPostgres(): Promise<string | null> {
  try {
    await admin('select 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const admin = (sql: string) => runAdminStatement(PG_ADMIN_URL, sql);
