/**
 * Starts the real server for one suite: a runtime (migrated database,
 * services, running scheduler) on a fresh test database from the shared test
 * helpers, the HTTP app on a free port with the runtime's PEC intake mounted
 * (as `pectrack serve` mounts it), and users of each role.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createApp, type ApiLimits, type PecTrackApp } from '../../../src/api/app.js';
import { addUser } from '../../../src/auth/users.js';
import { createRuntime, type Runtime } from '../../../src/runtime.js';
import { testDatabases, type TestDatabase } from '../../support/databases.js';

export const TENANT = 'default';
export const PASSWORD = 'correct horse battery staple';
export const USERS = {
  admin: 'anna.admin',
  analyst: 'alberto.analyst',
  clerk: 'carla.clerk',
  supervisor: 'sergio.supervisor',
} as const;

export interface ApiServer {
  url: string;
  runtime: Runtime;
  orm: Runtime['orm'];
  app: PecTrackApp;
  close(): Promise<void>;
}

/**
 * SQLite and PostgreSQL. An absent PostgreSQL is left out after the loud notice
 * the shared helper prints (and fails the run when services are required).
 */
export const DATABASES = (await testDatabases()).filter((database) => database.available);
export const SQLITE = DATABASES.find((database) => database.kind === 'sqlite')!;

export async function startApiServer(
  database: TestDatabase,
  limits?: Partial<ApiLimits>,
): Promise<ApiServer> {
  const created = await database.create();
  const runtime = await createRuntime(created.config);
  await runtime.start();
  for (const [role, username] of Object.entries(USERS)) {
    await addUser(runtime.orm, { tenantId: TENANT, username, password: PASSWORD, roles: [role] });
  }
  const app = createApp({
    services: runtime.services,
    orm: runtime.orm,
    defaultTenant: TENANT,
    logger: pino({ level: 'silent' }),
    limits,
    intake: runtime.intake,
  });
  const server: Server = await app.listen(0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    runtime,
    orm: runtime.orm,
    app,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.stop();
      await created.drop();
    },
  };
}

export function basic(username: string, password = PASSWORD): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
