/**
 * A database of its own for a benchmark run, on the server PECTRACK_BENCH_PG_URL names (default:
 * the local one, as the tests use it), dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { runAdminStatement } from '../store/pg-admin.js';

export const PG_ADMIN_URL =
  process.env.PECTRACK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs `work` with the URL of a new database; throws before `work` when none can be created. */
export async function withPgDatabase<T>(
  prefix: string,
  work: (url: string) => Promise<T>,
): Promise<T> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${name}`);
  try {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return await work(url.toString());
  } finally {
    await admin(`drop database if exists ${name} with (force)`);
  }
}

const admin = (sql: string) => runAdminStatement(PG_ADMIN_URL, sql);
