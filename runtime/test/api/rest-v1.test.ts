/** The /api/v1 resources end to end on a real database. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Json } from './support/http.js';
import { basic, DATABASES, startApiServer, USERS, type ApiServer } from './support/server.js';

const fixture = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');
const SIMPLE_APPROVAL = fixture('../../samples/simple-approval.bpmn');
const WAIT_FOR_REPLY = fixture('./fixtures/wait-for-reply.bpmn');
const NO_MATCHING_FLOW = fixture('./fixtures/no-matching-flow.bpmn');

const DAY = 24 * 60 * 60 * 1000;

describe.each(DATABASES)('REST /api/v1 on $kind', (database) => {
  let server: ApiServer;
  let api: string;
  const admin = basic(USERS.admin);
  const clerk = basic(USERS.clerk);
  const supervisor = basic(USERS.supervisor);

  beforeAll(async () => {
    server = await startApiServer(database);
    api = `${server.url}/api/v1`;
  });
  afterAll(async () => server?.close());

  async function start(
    definitionKey: string,
    variables: Record<string, unknown> = {},
    businessKey?: string,
  ) {
    const reply = await call(api, '/instances', {
      auth: clerk,
      json: { definitionKey, businessKey, variables },
    });
    expect(reply.status).toBe(201);
    return reply.body;
  }

  async function openTask(instanceId: string) {
    const reply = await call(api, `/tasks?instanceId=${instanceId}&status=open`, { auth: clerk });
    expect(reply.body).toHaveLength(1);
    return reply.body[0];
  }

  it('deploys an XML body, versions it, and serves its XML back', async () => {
    const first = await call(api, '/definitions?name=simple-approval', {
      auth: admin,
      headers: { 'content-type': 'application/xml' },
      body: SIMPLE_APPROVAL,
    });
    expect(first.status).toBe(201);
    expect(first.body.warnings).toEqual([]);
    expect(first.body.definitions).toHaveLength(1);
    expect(first.body.definitions[0]).toMatchObject({
      key: 'simple-approval',
      version: 1,
      name: 'Simple approval',
    });

    const second = await call(api, '/definitions?name=simple-approval', {
      auth: admin,
      headers: { 'content-type': 'text/xml' },
      body: SIMPLE_APPROVAL.replace(
        'name="Review the request"',
        'name="Review the citizen request"',
      ),
    });
    expect(second.body.definitions[0].version).toBe(2);

    const versions = await call(api, '/definitions/key/simple-approval/versions', { auth: clerk });
    expect(versions.body.map((d: Json) => d.version).sort()).toEqual([1, 2]);
    const latest = await call(api, '/definitions?latestOnly=true&key=simple-approval', {
      auth: clerk,
    });
    expect(latest.body.map((d: Json) => d.version)).toEqual([2]);

    const id = first.body.definitions[0].id;
    const one = await call(api, `/definitions/${encodeURIComponent(id)}`, { auth: clerk });
    expect(one.body).toMatchObject({ id, key: 'simple-approval', version: 1 });
    const xml = await call(api, `/definitions/${encodeURIComponent(id)}/xml`, { auth: clerk });
    expect(xml.contentType).toContain('application/xml');
    expect(xml.body).toBe(SIMPLE_APPROVAL);
  });

  it('deploys a diagram naming a connector this node lacks, with a warning that names it', async () => {
    const filing = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:pectrack="http://pectrack.org/schema/bpmn/1.0" id="defs-filing" targetNamespace="http://pectrack.org/test">
  <bpmn:process id="filing" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="file-case">
      <bpmn:extensionElements><pectrack:connector type="pectrack:htp" /></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="file-case" />
    <bpmn:sequenceFlow id="f2" sourceRef="file-case" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>`;
    const deploy = () =>
      call(api, '/definitions?name=filing', {
        auth: admin,
        headers: { 'content-type': 'application/xml' },
        body: filing,
      });
    const missing = await deploy();
    expect(missing.status).toBe(201);
    expect(missing.body.warnings).toEqual([
      {
        path: 'filing.bpmn',
        elementId: 'file-case',
        type: 'serviceTask',
        reason:
          'connector type "pectrack:htp" is not installed on this node: its instances will stop here with an incident until it is (installed: none)',
      },
    ]);

    // The registry is read at each deployment: installing the connector clears the warning.
    server.runtime.connectors.register('pectrack:htp', async () => ({}));
    const installed = await deploy();
    expect(installed.body.definitions[0].version).toBe(2);
    expect(installed.body.warnings).toEqual([]);
  });

  it('deploys several files in one multipart request', async () => {
    const form = new FormData();
    form.append('name', 'helpers');
    form.append(
      'files',
      new Blob([WAIT_FOR_REPLY], { type: 'application/xml' }),
      'wait-for-reply.bpmn',
    );
    form.append(
      'files',
      new Blob([NO_MATCHING_FLOW], { type: 'application/xml' }),
      'no-matching-flow.bpmn',
    );
    const reply = await call(api, '/definitions', { auth: admin, body: form });
    expect(reply.status).toBe(201);
    expect(reply.body.name).toBe('helpers');
    expect(reply.body.definitions.map((d: Json) => d.key).sort()).toEqual([
      'route-by-amount',
      'wait-for-reply',
    ]);
  });

  it('runs a case through the desk: filter, claim, unclaim, assign, complete, and 409 on double completion', async () => {
    const instance = await start('simple-approval', { requester: 'Mario Rossi' }, 'REQ-1');
    expect(instance).toMatchObject({
      status: 'active',
      businessKey: 'REQ-1',
      definitionVersion: 2,
    });

    const queue = await call(api, '/tasks?candidateOffice=protocol&status=open', { auth: clerk });
    const task = queue.body.find((t: Json) => t.instanceId === instance.id);
    expect(task).toMatchObject({
      elementId: 'Review',
      name: 'Review the citizen request',
      status: 'open',
    });
    expect(task.candidateOffices).toEqual(['protocol']);

    const soon = new Date(Date.now() + DAY).toISOString();
    const later = new Date(Date.now() + 10 * DAY).toISOString();
    const dueSoon = await call(api, `/tasks?dueBefore=${soon}&instanceId=${instance.id}`, {
      auth: clerk,
    });
    expect(dueSoon.body).toEqual([]);
    const dueLater = await call(api, `/tasks?dueBefore=${later}&instanceId=${instance.id}`, {
      auth: clerk,
    });
    expect(dueLater.body.map((t: Json) => t.id)).toEqual([task.id]);

    const claimed = await call(api, `/tasks/${task.id}/claim`, { auth: clerk, method: 'POST' });
    expect(claimed.status).toBe(200);
    expect(claimed.body.assignee).not.toBeNull();
    const byAssignee = await call(
      api,
      `/tasks?assignee=${encodeURIComponent(claimed.body.assignee)}`,
      { auth: clerk },
    );
    expect(byAssignee.body.map((t: Json) => t.id)).toContain(task.id);

    const unclaimed = await call(api, `/tasks/${task.id}/unclaim`, { auth: clerk, method: 'POST' });
    expect(unclaimed.body.assignee).toBeNull();

    const clerkAssigns = await call(api, `/tasks/${task.id}/assign`, {
      auth: clerk,
      json: { assignee: USERS.clerk },
    });
    expect(clerkAssigns.status).toBe(403);
    expect(clerkAssigns.body.type).toBe('https://pectrack.org/problems/forbidden');
    const assigned = await call(api, `/tasks/${task.id}/assign`, {
      auth: supervisor,
      json: { assignee: USERS.clerk },
    });
    expect(assigned.status).toBe(200);
    expect(assigned.body.assignee).toBe(USERS.clerk);

    const completed = await call(api, `/tasks/${task.id}/complete`, {
      auth: clerk,
      json: { variables: { approved: true } },
    });
    expect(completed.status).toBe(204);
    const twice = await call(api, `/tasks/${task.id}/complete`, {
      auth: clerk,
      json: { variables: { approved: false } },
    });
    expect(twice.status).toBe(409);
    expect(twice.contentType).toContain('application/problem+json');
    expect(twice.body).toMatchObject({
      type: 'https://pectrack.org/problems/conflict',
      status: 409,
      title: 'Conflict',
    });
    expect(twice.body.detail).toEqual(expect.any(String));

    const detail = await call(api, `/instances/${instance.id}`, { auth: clerk });
    expect(detail.body).toMatchObject({
      status: 'completed',
      variables: { requester: 'Mario Rossi', approved: true },
    });
    expect(detail.body.endedAt).not.toBeNull();
    const events = detail.body.history.map((h: Json) => h.event);
    expect(events).toContain('processStarted');
    expect(events).toContain('processCompleted');
    expect(detail.body.history.some((h: Json) => h.elementId === 'Approved')).toBe(true);

    const byKey = await call(api, '/instances?businessKey=REQ-1&status=completed', { auth: clerk });
    expect(byKey.body.map((i: Json) => i.id)).toEqual([instance.id]);
  });

  it('two concurrent completions of one task: exactly one succeeds, the other gets 409', async () => {
    const instance = await start('simple-approval', {}, 'REQ-RACE');
    const task = await openTask(instance.id);
    const replies = await Promise.all(
      [true, false].map((approved) =>
        call(api, `/tasks/${task.id}/complete`, { auth: clerk, json: { variables: { approved } } }),
      ),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([204, 409]);
    const detail = await call(api, `/instances/${instance.id}`, { auth: clerk });
    expect(detail.body.status).toBe('completed');
    const winner = replies.findIndex((r) => r.status === 204);
    expect(detail.body.variables.approved).toBe(winner === 0);
  });

  it('cancels a running instance and its open task', async () => {
    const instance = await start('simple-approval', {}, 'REQ-CANCEL');
    const task = await openTask(instance.id);
    const clerkCancels = await call(api, `/instances/${instance.id}/cancel`, {
      auth: clerk,
      json: { reason: 'duplicate' },
    });
    expect(clerkCancels.status).toBe(403);
    const cancelled = await call(api, `/instances/${instance.id}/cancel`, {
      auth: supervisor,
      json: { reason: 'duplicate' },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('terminated');
    const after = await call(api, `/tasks/${task.id}`, { auth: clerk });
    expect(after.body.status).toBe('cancelled');
    const complete = await call(api, `/tasks/${task.id}/complete`, { auth: clerk, json: {} });
    expect(complete.status).toBe(409);
  });

  it('correlates a message to the one instance waiting with that key', async () => {
    const first = await start('wait-for-reply', { caseNumber: 'C-1' });
    const second = await start('wait-for-reply', { caseNumber: 'C-2' });
    const reply = await call(api, '/messages/correlate', {
      auth: clerk,
      json: { name: 'reply-received', correlationKey: 'C-1', variables: { replyText: 'accepted' } },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ matched: 1, instanceIds: [first.id], buffered: false });
    const done = await call(api, `/instances/${first.id}`, { auth: clerk });
    expect(done.body).toMatchObject({ status: 'completed', variables: { replyText: 'accepted' } });
    const waiting = await call(api, `/instances/${second.id}`, { auth: clerk });
    expect(waiting.body.status).toBe('active');
    const nobody = await call(api, '/messages/correlate', {
      auth: clerk,
      json: { name: 'reply-received', correlationKey: 'C-9' },
    });
    expect(nobody.body.matched).toBe(0);

    // Kept for the first instance to wait for it, when published with a time to live.
    const early = await call(api, '/messages/correlate', {
      auth: clerk,
      json: { name: 'reply-received', correlationKey: 'C-3', timeToLiveMs: 60_000 },
    });
    expect(early.body).toEqual({ matched: 0, instanceIds: [], buffered: true });
    const third = await start('wait-for-reply', { caseNumber: 'C-3' });
    expect((await call(api, `/instances/${third.id}`, { auth: clerk })).body.status).toBe(
      'completed',
    );
    const refused = await call(api, '/messages/correlate', {
      auth: clerk,
      json: { name: 'reply-received', correlationKey: 'C-4', timeToLiveMs: -5 },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('timeToLiveMs');
  });

  it('shows an exclusive gateway without a matching flow as an incident, and retries it', async () => {
    const instance = await start('route-by-amount', { amount: 500 });
    const detail = await call(api, `/instances/${instance.id}`, { auth: clerk });
    expect(detail.body.hasIncident).toBe(true);
    const incidents = await call(api, `/incidents?instanceId=${instance.id}&status=open`, {
      auth: clerk,
    });
    expect(incidents.body).toHaveLength(1);
    expect(incidents.body[0]).toMatchObject({
      instanceId: instance.id,
      elementId: 'Route',
      status: 'open',
    });
    const withIncident = await call(api, '/instances?hasIncident=true', { auth: clerk });
    expect(withIncident.body.map((i: Json) => i.id)).toContain(instance.id);

    const clerkRetries = await call(api, `/incidents/${incidents.body[0].id}/retry`, {
      auth: clerk,
      method: 'POST',
    });
    expect(clerkRetries.status).toBe(403);
    const retried = await call(api, `/incidents/${incidents.body[0].id}/retry`, {
      auth: supervisor,
      method: 'POST',
    });
    expect(retried.status).toBe(204);
    const still = await call(api, `/instances/${instance.id}`, { auth: clerk });
    expect(still.body.status).toBe('active');

    // A supervisor corrects what raised it and retries with the corrected variable: no other
    // way to fix an instance's data through the API. A bad variable name is refused naming it.
    const again = await call(api, `/incidents?instanceId=${instance.id}&status=open`, {
      auth: clerk,
    });
    const retry = `/incidents/${again.body[0].id}/retry`;
    const badName = await call(api, retry, {
      auth: supervisor,
      method: 'POST',
      json: { variables: { '1amount': 50 } },
    });
    expect({
      status: badName.status,
      named: JSON.stringify(badName.body).includes('1amount'),
    }).toEqual({
      status: 400,
      named: true,
    });
    const corrected = await call(api, retry, {
      auth: supervisor,
      method: 'POST',
      json: { variables: { amount: 50 } },
    });
    expect(corrected.status).toBe(204);
    const done = await call(api, `/instances/${instance.id}`, { auth: clerk });
    expect({ status: done.body.status, amount: done.body.variables.amount }).toEqual({
      status: 'completed',
      amount: 50,
    });
  });

  it('answers unknown ids and routes with 404 problems', async () => {
    const task = await call(api, '/tasks/no-such-task', {
      auth: clerk,
      headers: { 'x-request-id': 'desk-42' },
    });
    expect(task.status).toBe(404);
    expect(task.body.type).toBe('https://pectrack.org/problems/not-found');
    expect(task.body.instance).toBe('urn:pectrack:request:desk-42');
    expect(task.headers.get('x-request-id')).toBe('desk-42');
    const route = await call(api, '/nothing-here', { auth: clerk });
    expect(route.status).toBe(404);
    expect(route.contentType).toContain('application/problem+json');
    const method = await call(api, '/tasks', { auth: clerk, method: 'DELETE' });
    expect(method.status).toBe(405);
    expect(method.body).toMatchObject({ status: 405, title: 'Method Not Allowed' });
    expect(method.headers.get('allow')).toContain('GET');
  });
});
