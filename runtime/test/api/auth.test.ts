/** Authentication and authorization over HTTP, against users and tokens in the database. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, createApiToken, revokeApiToken } from '../../src/auth/users.js';
import { call, type Json } from './support/http.js';
import {
  basic,
  DATABASES,
  startApiServer,
  TENANT,
  USERS,
  type ApiServer,
} from './support/server.js';

const SIMPLE_APPROVAL = readFileSync(
  new URL('../../samples/simple-approval.bpmn', import.meta.url),
  'utf8',
);

describe.each(DATABASES)('authentication and permissions on $kind', (database) => {
  let server: ApiServer;
  let api: string;

  beforeAll(async () => {
    server = await startApiServer(database);
    api = `${server.url}/api/v1`;
  });
  afterAll(async () => server?.close());

  function expectUnauthorized(reply: {
    status: number;
    headers: Headers;
    body: Json;
    contentType: string;
  }) {
    expect(reply.status).toBe(401);
    expect(reply.contentType).toContain('application/problem+json');
    expect(reply.body.type).toBe('https://pectrack.org/problems/unauthorized');
    expect(reply.headers.get('www-authenticate')).toMatch(/Basic realm="pectrack"/);
    expect(JSON.stringify(reply.body)).not.toMatch(/\n\s+at |Error:/);
  }

  it('no credentials → 401 with a challenge', async () => {
    expectUnauthorized(await call(api, '/definitions'));
  });

  it('wrong password, unknown user, garbage header → 401', async () => {
    expectUnauthorized(
      await call(api, '/definitions', { auth: basic(USERS.admin, 'wrong password') }),
    );
    expectUnauthorized(await call(api, '/definitions', { auth: basic('nobody') }));
    expectUnauthorized(await call(api, '/definitions', { auth: 'Basic !!!not-base64' }));
    expectUnauthorized(await call(api, '/definitions', { auth: 'Digest username="anna"' }));
    const right = await call(api, '/definitions', { auth: basic(USERS.admin) });
    expect(right.status).toBe(200);
  });

  it('a deactivated user is refused even with the right password', async () => {
    await addUser(server.orm, {
      tenantId: TENANT,
      username: 'gone',
      password: 'pw-of-gone',
      roles: ['clerk'],
    });
    expect((await call(api, '/tasks', { auth: basic('gone', 'pw-of-gone') })).status).toBe(200);
    await server.orm.em
      .getConnection()
      .execute(`update app_user set active = ? where username = ?`, [false, 'gone']);
    expectUnauthorized(await call(api, '/tasks', { auth: basic('gone', 'pw-of-gone') }));
  });

  it('an API token works as Bearer and as the Basic password, and stops working when revoked', async () => {
    const { id, token } = await createApiToken(server.orm, {
      tenantId: TENANT,
      username: USERS.clerk,
      name: 'scanner',
    });
    expect(token).toMatch(/^pct_[A-Za-z0-9_-]{40,}$/);
    const stored = await server.orm.em
      .getConnection()
      .execute(`select token_hash from api_token where id = ?`, [id]);
    expect(JSON.stringify(stored)).not.toContain(token);

    expect((await call(api, '/tasks', { auth: `Bearer ${token}` })).status).toBe(200);
    expect((await call(api, '/tasks', { auth: basic(USERS.clerk, token) })).status).toBe(200);
    expectUnauthorized(await call(api, '/tasks', { auth: basic(USERS.admin, token) }));
    expectUnauthorized(await call(api, '/tasks', { auth: `Bearer ${token}x` }));

    await revokeApiToken(server.orm, id);
    expectUnauthorized(await call(api, '/tasks', { auth: `Bearer ${token}` }));
    const camunda = await call(server.url, '/engine-rest/task', {
      auth: basic(USERS.clerk, token),
    });
    expect(camunda.status).toBe(401);
    expect(camunda.body.type).toBe('AuthenticationException');
  });

  it('each route checks its permission: 403 names the missing one', async () => {
    const clerkDeploys = await call(api, '/definitions?name=x', {
      auth: basic(USERS.clerk),
      headers: { 'content-type': 'application/xml' },
      body: '<x/>',
    });
    expect(clerkDeploys.status).toBe(403);
    expect(clerkDeploys.body).toMatchObject({
      type: 'https://pectrack.org/problems/forbidden',
      permission: 'definitions:deploy',
    });
    const analystCompletes = await call(api, '/tasks/any/complete', {
      auth: basic(USERS.analyst),
      json: {},
    });
    expect(analystCompletes.status).toBe(403);
    expect(analystCompletes.body.permission).toBe('tasks:work');
  });

  it('every request is scoped to the tenant of its user', async () => {
    const deployed = await call(api, '/definitions?name=tenant-a', {
      auth: basic(USERS.admin),
      headers: { 'content-type': 'application/xml' },
      body: SIMPLE_APPROVAL,
    });
    expect(deployed.status).toBe(201);
    await addUser(server.orm, {
      tenantId: 'comune-b',
      username: USERS.admin,
      password: 'pw-of-b',
      roles: ['admin'],
    });
    const otherTenant = basic(`comune-b/${USERS.admin}`, 'pw-of-b');
    const theirs = await call(api, '/definitions', { auth: otherTenant });
    expect(theirs.status).toBe(200);
    expect(theirs.body).toEqual([]);
    const id = deployed.body.definitions[0].id;
    expect(
      (await call(api, `/definitions/${encodeURIComponent(id)}`, { auth: otherTenant })).status,
    ).toBe(404);
    const started = await call(api, '/instances', {
      auth: otherTenant,
      json: { definitionKey: 'simple-approval' },
    });
    expect(started.status).toBe(404);
    const ours = await call(api, '/definitions', { auth: basic(USERS.admin) });
    expect(ours.body.map((d: Json) => d.id)).toContain(id);
    expectUnauthorized(await call(api, '/definitions', { auth: basic(USERS.admin, 'pw-of-b') }));
  });

  it('operational endpoints need no credentials', async () => {
    expect((await call(server.url, '/healthz')).body).toEqual({ status: 'ok' });
    expect((await call(server.url, '/readyz')).body).toEqual({ status: 'ready' });
    const metrics = await call(server.url, '/metrics');
    expect(metrics.contentType).toContain('text/plain');
    expect(metrics.body).toMatch(
      /pectrack_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/definitions"[^}]*status="200"\} [1-9]/,
    );
    expect(metrics.body).toContain('pectrack_process_cpu_user_seconds_total');
  });
});
