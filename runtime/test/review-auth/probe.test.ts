import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { call } from '../api/support/http.js';
import { basic, DATABASES, startApiServer, TENANT, USERS, type ApiServer } from '../api/support/server.js';
const XML = readFileSync(new URL('../../samples/simple-approval.bpmn', import.meta.url), 'utf8');

describe.each(DATABASES)('probe $kind', (database) => {
  let server: ApiServer;
  beforeAll(async () => { server = await startApiServer(database); });
  afterAll(async () => server?.close());
  it('nul', async () => {
    const e = await server.app.authenticate(`Basic ${Buffer.from('a\u0000b:pw').toString('base64')}`).catch((e) => e);
    console.log(database.kind, e?.constructor?.name, String(e?.message).slice(0, 200));
  });
  it('tasks', async () => {
    const api = `${server.url}/api/v1`;
    const engine = `${server.url}/engine-rest`;
    await addUser(server.orm, { tenantId: TENANT, username: 'carlo.clerk', password: 'pw-of-carlo', roles: ['clerk'] });
    const other = basic('carlo.clerk', 'pw-of-carlo');
    const clerk = basic(USERS.clerk);
    const d = await call(api, '/definitions?name=x', { auth: basic(USERS.admin), headers: { 'content-type': 'application/xml' }, body: XML });
    console.log('deploy', d.status);
    const inst = await call(api, '/instances', { auth: clerk, json: { definitionKey: 'simple-approval' } });
    const tasks = await call(api, `/tasks?instanceId=${inst.body.id}`, { auth: clerk });
    const task = tasks.body[0];
    const c = await call(engine, `/task/${task.id}/claim`, { auth: clerk, json: { userId: 'carlo.clerk' } });
    console.log('claim for other', c.status, (await call(api, `/tasks/${task.id}`, { auth: clerk })).body.assignee);
    const u = await call(api, `/tasks/${task.id}/unclaim`, { auth: clerk, method: 'POST' });
    console.log('unclaim other', u.status, u.body.assignee);
    await call(api, `/tasks/${task.id}/assign`, { auth: basic(USERS.supervisor), json: { assignee: USERS.clerk } });
    const comp = await call(api, `/tasks/${task.id}/complete`, { auth: other, json: { variables: { approved: true } } });
    console.log('complete others', comp.status);
  });
});
