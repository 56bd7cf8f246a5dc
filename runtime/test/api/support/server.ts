/**
 * Starts the real API (real services, real database, a free port) for one
 * suite, with users of each role.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { DatabaseConfig } from '../../../src/config.js';
import { createApp, type ApiLimits, type PecTrackApp } from '../../../src/api/app.js';
import { addUser } from '../../../src/auth/users.js';
import { createServices } from '../../../src/services/index.js';
import type { Services } from '../../../src/services/types.js';
import { migrate, openOrm, type Orm } from '../../../src/store/orm.js';
import { createTestDatabase } from './databases.js';

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
  orm: Orm;
  services: Services;
  app: PecTrackApp;
  close(): Promise<void>;
}

export async function startApiServer(kind: DatabaseConfig['kind'], limits?: Partial<ApiLimits>): Promise<ApiServer> {
  const database = await createTestDatabase(kind);
  const orm = await openOrm(database.config);
  await migrate(orm);
  for (const [role, username] of Object.entries(USERS)) {
    await addUser(orm, { tenantId: TENANT, username, password: PASSWORD, roles: [role] });
  }
  const { services } = createServices({ orm, database: database.config });
  const app = createApp({ services, orm, defaultTenant: TENANT, logger: pino({ level: 'silent' }), limits });
  const server: Server = await app.listen(0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    orm,
    services,
    app,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await orm.close();
      await database.drop();
    },
  };
}

export function basic(username: string, password = PASSWORD): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
