import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createApp } from '../../src/api/app.js';
import { addUser } from '../../src/auth/users.js';
import { builtinConnectors, describeConnectors, installAll } from '../../src/connectors/index.js';
import { testDatabases } from '../support/databases.js';
import { useRuntime } from '../support/runtime.js';

const sqlite = (await testDatabases()).find((database) => database.kind === 'sqlite')!;
const auth = `Basic ${Buffer.from('carla:secret-password').toString('base64')}`;

describe('GET /api/v1/connectors', () => {
  const runtime = useRuntime(sqlite);
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const { orm, services } = runtime();
    await addUser(orm, {
      tenantId: 'default',
      username: 'carla',
      password: 'secret-password',
      roles: ['clerk'],
    });
    const app = createApp({
      services,
      orm,
      logger: pino({ level: 'silent' }),
      connectors: describeConnectors(installAll(builtinConnectors(), {})),
    });
    server = await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('lists each connector with its actions and Camunda-shaped element templates', async () => {
    const response = await fetch(`${url}/api/v1/connectors`, { headers: { authorization: auth } });
    expect(response.status).toBe(200);
    const [http] = (await response.json()) as {
      type: string;
      actions: unknown[];
      templates: { appliesTo: string[]; properties: { value?: unknown; binding: unknown }[] }[];
    }[];
    expect(http).toMatchObject({
      type: 'pectrack:http',
      version: '1.0.0',
      actions: [{ name: 'request', connectorType: 'pectrack:http' }],
    });
    const [template] = http!.templates;
    expect(template!.appliesTo).toContain('bpmn:ServiceTask');
    // Its pectrack: bindings are no binding type Camunda's schema allows: claiming that schema,
    // a template would promise Desktop Modeler something it refuses.
    expect(template).not.toHaveProperty('$schema');
    expect(template!.properties).toContainEqual(
      expect.objectContaining({
        value: 'pectrack:http',
        binding: { type: 'pectrack:connector', property: 'type' },
      }),
    );
  });

  it('refuses an anonymous caller and is described in the OpenAPI document', async () => {
    expect((await fetch(`${url}/api/v1/connectors`)).status).toBe(401);
    const document = (await (await fetch(`${url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, { get?: { operationId?: string } }>;
    };
    expect(document.paths['/api/v1/connectors']?.get?.operationId).toBe('listConnectors');
  });
});
