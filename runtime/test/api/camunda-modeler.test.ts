/**
 * The Camunda 7 REST subset driven exactly as Camunda Desktop Modeler and
 * Camunda REST clients drive it: multipart deployment with Modeler's field
 * names, Basic auth, typed variables, task list/claim/complete, history.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Json } from './support/http.js';
import { basic, DATABASES, startApiServer, USERS, type ApiServer } from './support/server.js';

const MODELER_DIAGRAM = readFileSync(
  new URL('./fixtures/modeler-approval.bpmn', import.meta.url),
  'utf8',
);

/** The request CamundaAPI.deployDiagram in Camunda Modeler builds. */
function modelerDeployment(name: string, filename: string, xml: string): FormData {
  const form = new FormData();
  form.append('deployment-name', name);
  form.append('deployment-source', 'Camunda Modeler');
  form.append('enable-duplicate-filtering', 'true');
  form.append(filename, new Blob([xml], { type: 'text/xml' }), filename);
  return form;
}

describe.each(DATABASES)('Camunda 7 REST subset on $kind', (database) => {
  let server: ApiServer;
  const admin = basic(USERS.admin);
  const headers = { accept: 'application/json' };

  beforeAll(async () => {
    server = await startApiServer(database);
  });
  afterAll(async () => server?.close());

  it('deploys, starts, lists, claims and completes like Camunda Modeler and a REST client', async () => {
    const engine = `${server.url}/engine-rest`;

    const connection = await call(engine, '/deployment?maxResults=0', { auth: admin, headers });
    expect(connection.status).toBe(200);
    expect(connection.body).toEqual([]);
    const version = await call(engine, '/version', { auth: admin, headers });
    expect(version.body.version).toMatch(/^7\.\d+\.\d+$/);

    const deployed = await call(engine, '/deployment/create', {
      auth: admin,
      headers,
      body: modelerDeployment('modeler-approval', 'modeler-approval.bpmn', MODELER_DIAGRAM),
    });
    expect(deployed.status).toBe(200);
    expect(deployed.body).toMatchObject({
      name: 'modeler-approval',
      source: 'Camunda Modeler',
      tenantId: null,
    });
    expect(deployed.body.deploymentTime).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/,
    );
    const definitions = Object.values(deployed.body.deployedProcessDefinitions) as Json[];
    expect(definitions).toHaveLength(1);
    const definition = definitions[0];
    expect(definition).toMatchObject({
      key: 'modeler-approval',
      version: 1,
      resource: 'modeler-approval.bpmn',
      deploymentId: deployed.body.id,
      suspended: false,
    });
    expect(deployed.body.deployedProcessDefinitions[definition.id]).toBe(definition);

    const listed = await call(engine, '/deployment', { auth: admin, headers });
    expect(listed.body.map((d: Json) => d.id)).toContain(deployed.body.id);

    const started = await call(
      engine,
      `/process-definition/${encodeURIComponent(definition.id)}/start`,
      {
        auth: admin,
        json: {
          businessKey: 'PROT-2026-0001',
          variables: {
            amount: { value: '1200', type: 'Integer' },
            requester: { value: 'Mario Rossi', type: 'String' },
            urgent: { value: true, type: 'Boolean' },
            receivedAt: { value: '2026-11-27T09:15:00.000+0100', type: 'Date' },
            details: { value: '{"office":"protocol"}', type: 'Json' },
          },
        },
      },
    );
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({
      definitionId: definition.id,
      businessKey: 'PROT-2026-0001',
      ended: false,
      suspended: false,
    });
    const instanceId: string = started.body.id;
    expect(started.body.links[0]).toMatchObject({ rel: 'self', method: 'GET' });

    const byBusinessKey = await call(engine, '/process-instance?businessKey=PROT-2026-0001', {
      auth: admin,
    });
    expect(byBusinessKey.body.map((i: Json) => i.id)).toEqual([instanceId]);
    const xml = await call(engine, `/process-definition/${encodeURIComponent(definition.id)}/xml`, {
      auth: admin,
    });
    expect(xml.body).toEqual({ id: definition.id, bpmn20Xml: MODELER_DIAGRAM });

    const running = await call(engine, `/process-instance/${instanceId}`, { auth: admin });
    expect(running.status).toBe(200);
    expect(running.body).toMatchObject({ id: instanceId, ended: false });
    const variables = await call(engine, `/process-instance/${instanceId}/variables`, {
      auth: admin,
    });
    expect(variables.body.amount).toEqual({ type: 'Integer', value: 1200, valueInfo: {} });
    expect(variables.body.receivedAt.value).toBe('2026-11-27T08:15:00.000Z');
    expect(JSON.parse(variables.body.details.value)).toEqual({ office: 'protocol' });

    const tasks = await call(engine, `/task?processInstanceId=${instanceId}`, {
      auth: admin,
      headers,
    });
    expect(tasks.status).toBe(200);
    expect(tasks.body).toHaveLength(1);
    const task = tasks.body[0];
    expect(task).toMatchObject({
      name: 'Approve',
      taskDefinitionKey: 'Approve',
      processInstanceId: instanceId,
      processDefinitionId: definition.id,
      assignee: null,
      suspended: false,
    });

    const claimed = await call(engine, `/task/${task.id}/claim`, {
      auth: admin,
      json: { userId: USERS.clerk },
    });
    expect(claimed.status).toBe(204);
    const mine = await call(engine, `/task?assignee=${USERS.clerk}`, { auth: admin });
    expect(mine.body.map((t: Json) => t.id)).toEqual([task.id]);

    const completed = await call(engine, `/task/${task.id}/complete`, {
      auth: basic(USERS.clerk),
      json: { variables: { approved: { value: true, type: 'Boolean' } } },
    });
    expect(completed.status).toBe(204);

    const ended = await call(engine, `/process-instance/${instanceId}`, { auth: admin });
    expect(ended.status).toBe(404);
    expect(ended.body).toEqual({
      type: 'InvalidRequestException',
      message: `Process instance with id ${instanceId} does not exist`,
    });
    const history = await call(engine, `/history/process-instance/${instanceId}`, { auth: admin });
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({
      id: instanceId,
      businessKey: 'PROT-2026-0001',
      processDefinitionId: definition.id,
      processDefinitionKey: 'modeler-approval',
      state: 'COMPLETED',
    });
    expect(history.body.endTime).not.toBeNull();
    const none = await call(engine, `/task?processInstanceId=${instanceId}`, { auth: admin });
    expect(none.body).toEqual([]);
  });

  it('redeploying the same diagram with duplicate filtering keeps version 1; a changed one becomes version 2', async () => {
    const engine = `${server.url}/engine-rest`;
    const again = await call(engine, '/deployment/create', {
      auth: admin,
      body: modelerDeployment('modeler-approval', 'modeler-approval.bpmn', MODELER_DIAGRAM),
    });
    expect(again.status).toBe(200);
    const changed = MODELER_DIAGRAM.replace('name="Approve"', 'name="Approve the request"');
    const second = await call(engine, '/deployment/create', {
      auth: admin,
      body: modelerDeployment('modeler-approval', 'modeler-approval.bpmn', changed),
    });
    const [definition] = Object.values(second.body.deployedProcessDefinitions) as Json[];
    expect(definition.version).toBe(2);
    const latest = await call(engine, '/process-definition/key/modeler-approval', { auth: admin });
    expect(latest.body).toMatchObject({ id: definition.id, version: 2 });
  });

  it('accepts the tenant-id of the caller and refuses another tenant', async () => {
    const engine = `${server.url}/engine-rest`;
    const own = modelerDeployment('modeler-approval', 'modeler-approval.bpmn', MODELER_DIAGRAM);
    own.append('tenant-id', 'default');
    const accepted = await call(engine, '/deployment/create', { auth: admin, body: own });
    expect(accepted.status).toBe(200);
    expect(accepted.body.tenantId).toBe('default');
    const foreign = modelerDeployment('modeler-approval', 'modeler-approval.bpmn', MODELER_DIAGRAM);
    foreign.append('tenant-id', 'another-body');
    const refused = await call(engine, '/deployment/create', { auth: admin, body: foreign });
    expect(refused.status).toBe(403);
    expect(refused.body.type).toBe('AuthorizationException');
  });

  it('starts by key, and a deleted instance is EXTERNALLY_TERMINATED in history', async () => {
    const engine = `${server.url}/engine-rest`;
    const started = await call(engine, '/process-definition/key/modeler-approval/start', {
      auth: admin,
      json: { businessKey: 'PROT-2', variables: {}, withVariablesInReturn: true },
    });
    expect(started.status).toBe(200);
    expect(started.body.variables).toEqual({});
    const deleted = await call(engine, `/process-instance/${started.body.id}`, {
      auth: admin,
      method: 'DELETE',
    });
    expect(deleted.status).toBe(204);
    const again = await call(engine, `/process-instance/${started.body.id}`, {
      auth: admin,
      method: 'DELETE',
    });
    expect(again.status).toBe(404);
    const history = await call(engine, `/history/process-instance/${started.body.id}`, {
      auth: admin,
    });
    expect(history.body.state).toBe('EXTERNALLY_TERMINATED');
  });

  it('refuses a variable that does not fit its type with Camunda error shape naming the variable', async () => {
    const engine = `${server.url}/engine-rest`;
    const reply = await call(engine, '/process-definition/key/modeler-approval/start', {
      auth: admin,
      json: { variables: { amount: { value: 'twelve hundred', type: 'Integer' } } },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.type).toBe('InvalidRequestException');
    expect(reply.body.message).toContain(
      "Cannot convert value 'twelve hundred' of type 'Integer' to java type java.lang.Integer",
    );
    expect(reply.body.message).toContain("variable 'amount'");
    const unknownType = await call(engine, '/process-definition/key/modeler-approval/start', {
      auth: admin,
      json: { variables: { file: { value: 'x', type: 'File' } } },
    });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.message).toContain("Unsupported value type 'File' (variable 'file')");
    const stillServing = await call(engine, '/version', { auth: admin });
    expect(stillServing.status).toBe(200);
  });

  it('answers a diagram the engine cannot execute with the parse error Camunda Modeler shows', async () => {
    const engine = `${server.url}/engine-rest`;
    const unsupported = MODELER_DIAGRAM.replace(
      '<bpmn:endEvent id="EndEvent_1">',
      '<bpmn:endEvent id="EndEvent_1"><bpmn:escalationEventDefinition id="Escalation_1" />',
    );
    const reply = await call(engine, '/deployment/create', {
      auth: admin,
      body: modelerDeployment('broken', 'broken.bpmn', unsupported),
    });
    expect(reply.status).toBe(400);
    expect(reply.body.type).toBe('ParseException');
    expect(reply.body.message.startsWith('ENGINE-09005 Could not parse BPMN process.')).toBe(true);
    expect(reply.body.message).toContain('EndEvent_1');
    expect(reply.body.details['broken.bpmn'].errors[0].mainElementId).toBe('EndEvent_1');
  });

  it('requires Basic credentials in Camunda error shape', async () => {
    const engine = `${server.url}/engine-rest`;
    const anonymous = await call(engine, '/deployment?maxResults=0');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Basic');
    expect(anonymous.body.type).toBe('AuthenticationException');
    const wrong = await call(engine, '/deployment?maxResults=0', {
      auth: basic(USERS.admin, 'not the password'),
    });
    expect(wrong.status).toBe(401);
  });
});
