/**
 * A claim is exclusive. Taking a task for someone else, or taking it away from
 * the user who holds it, is what `tasks:assign` is for (supervisors, admins); a clerk with only
 * `tasks:work` must not get the same effect through claim, unclaim or complete.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { call, type Json } from './support/http.js';
import { basic, SQLITE, startApiServer, TENANT, USERS, type ApiServer } from './support/server.js';

const SIMPLE_APPROVAL = readFileSync(
  new URL('../../samples/simple-approval.bpmn', import.meta.url),
  'utf8',
);
const OTHER_CLERK = 'carlo.clerk';
const OTHER_PASSWORD = 'pw-of-carlo';

describe.each([SQLITE])('task ownership on $kind', (database) => {
  let server: ApiServer;
  let api: string;
  let engine: string;
  const admin = basic(USERS.admin);
  const clerk = basic(USERS.clerk);
  const supervisor = basic(USERS.supervisor);
  const otherClerk = basic(OTHER_CLERK, OTHER_PASSWORD);

  beforeAll(async () => {
    server = await startApiServer(database);
    api = `${server.url}/api/v1`;
    engine = `${server.url}/engine-rest`;
    await addUser(server.orm, {
      tenantId: TENANT,
      username: OTHER_CLERK,
      password: OTHER_PASSWORD,
      roles: ['clerk'],
    });
    const deployed = await call(api, '/definitions?name=ownership', {
      auth: admin,
      headers: { 'content-type': 'application/xml' },
      body: SIMPLE_APPROVAL,
    });
    expect(deployed.status).toBe(201);
  });
  afterAll(async () => server?.close());

  async function openTask(): Promise<Json> {
    const started = await call(api, '/instances', {
      auth: clerk,
      json: { definitionKey: 'simple-approval' },
    });
    expect(started.status).toBe(201);
    const tasks = await call(api, `/tasks?instanceId=${started.body.id}`, { auth: clerk });
    expect(tasks.body).toHaveLength(1);
    return tasks.body[0];
  }

  const assigneeOf = async (taskId: string) =>
    (await call(api, `/tasks/${taskId}`, { auth: admin })).body.assignee;

  it('a clerk cannot claim a task for another user through /engine-rest (that is assigning)', async () => {
    const task = await openTask();
    // On /api/v1 the same clerk may not assign, not even to herself.
    const assign = await call(api, `/tasks/${task.id}/assign`, {
      auth: clerk,
      json: { assignee: OTHER_CLERK },
    });
    expect(assign.status).toBe(403);

    const claimForOther = await call(engine, `/task/${task.id}/claim`, {
      auth: clerk,
      json: { userId: OTHER_CLERK },
    });
    expect(claimForOther.status).toBe(403);
    expect(claimForOther.body.type).toBe('AuthorizationException');
    expect(await assigneeOf(task.id)).toBeNull();

    // Claiming for herself stays allowed.
    const claimForSelf = await call(engine, `/task/${task.id}/claim`, {
      auth: clerk,
      json: { userId: USERS.clerk },
    });
    expect(claimForSelf.status).toBe(204);
    expect(await assigneeOf(task.id)).toBe(USERS.clerk);
  });

  it('a clerk cannot unclaim a task another user holds (/api/v1 and /engine-rest)', async () => {
    const task = await openTask();
    const claimed = await call(api, `/tasks/${task.id}/claim`, {
      auth: otherClerk,
      method: 'POST',
    });
    expect(claimed.status).toBe(200);
    expect(claimed.body.assignee).toBe(OTHER_CLERK);

    // Claiming it over is refused (409 "already claimed by")...
    const steal = await call(api, `/tasks/${task.id}/claim`, { auth: clerk, method: 'POST' });
    expect(steal.status).toBe(409);

    // ...so unclaiming someone else's claim must be refused too, or the 409 means nothing.
    const v1Unclaim = await call(api, `/tasks/${task.id}/unclaim`, { auth: clerk, method: 'POST' });
    expect([403, 409]).toContain(v1Unclaim.status);
    expect(await assigneeOf(task.id)).toBe(OTHER_CLERK);

    const camundaUnclaim = await call(engine, `/task/${task.id}/unclaim`, {
      auth: clerk,
      method: 'POST',
    });
    expect([403, 409]).toContain(camundaUnclaim.status);
    expect(await assigneeOf(task.id)).toBe(OTHER_CLERK);

    // The holder may still give it back.
    const ownUnclaim = await call(api, `/tasks/${task.id}/unclaim`, {
      auth: otherClerk,
      method: 'POST',
    });
    expect(ownUnclaim.status).toBe(200);
  });

  it('a clerk cannot complete a task a supervisor assigned to another user', async () => {
    const task = await openTask();
    const assigned = await call(api, `/tasks/${task.id}/assign`, {
      auth: supervisor,
      json: { assignee: OTHER_CLERK },
    });
    expect(assigned.status).toBe(200);

    const v1Complete = await call(api, `/tasks/${task.id}/complete`, {
      auth: clerk,
      json: { variables: { approved: true } },
    });
    expect([403, 409]).toContain(v1Complete.status);
    const camundaComplete = await call(engine, `/task/${task.id}/complete`, {
      auth: clerk,
      json: { variables: { approved: { value: true, type: 'Boolean' } } },
    });
    expect([403, 409]).toContain(camundaComplete.status);
    const still = await call(api, `/tasks/${task.id}`, { auth: admin });
    expect(still.body).toMatchObject({ status: 'open', assignee: OTHER_CLERK });

    // The assignee completes it.
    const own = await call(api, `/tasks/${task.id}/complete`, {
      auth: otherClerk,
      json: { variables: { approved: true } },
    });
    expect(own.status).toBe(204);
  });
});
