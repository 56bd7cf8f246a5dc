/**
 * Credentials the database cannot take (a NUL in the Basic username or tenant)
 * are bad credentials, answered 401 like any other, never a 500 from the driver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './support/http.js';
import { DATABASES, startApiServer, type ApiServer } from './support/server.js';

const basicRaw = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe.each(DATABASES)('malformed Basic credentials on $kind', (database) => {
  let server: ApiServer;

  beforeAll(async () => {
    server = await startApiServer(database);
  });
  afterAll(async () => server?.close());

  it('a NUL byte in the Basic username is a 401, not a 500 (/api/v1)', async () => {
    const reply = await call(`${server.url}/api/v1`, '/definitions', {
      auth: basicRaw('anna\u0000admin:whatever'),
    });
    expect(reply.status).toBe(401);
    expect(reply.body.type).toBe('https://pectrack.org/problems/unauthorized');
  });

  it('a NUL byte in the tenant of a Basic login is a 401, not a 500 (/engine-rest)', async () => {
    const reply = await call(`${server.url}/engine-rest`, '/deployment?maxResults=0', {
      auth: basicRaw('comune\u0000/anna.admin:whatever'),
    });
    expect(reply.status).toBe(401);
    expect(reply.body.type).toBe('AuthenticationException');
  });
});
