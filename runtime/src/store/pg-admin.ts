/**
 * One statement on a PostgreSQL server's maintenance database (create or drop a database), on a
 * connection of its own: what the benchmarks and the test suites do around their own databases.
 */
import pg from 'pg';

export async function runAdminStatement(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
