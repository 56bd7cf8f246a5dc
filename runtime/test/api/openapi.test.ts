/** The OpenAPI document describes every route the server actually mounts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOpenApiPath } from '../../src/api/openapi/document.js';
import { call, type Json } from './support/http.js';
import { SQLITE, startApiServer, type ApiServer } from './support/server.js';

interface RouterLayer {
  path: string;
  methods: string[];
}

describe('OpenAPI document', () => {
  let server: ApiServer;
  let doc: Json;

  beforeAll(async () => {
    server = await startApiServer(SQLITE);
    const reply = await call(server.url, '/api/v1/openapi.json');
    expect(reply.status).toBe(200);
    doc = reply.body;
  });
  afterAll(async () => server?.close());

  /** Every (method, path) the Koa routers answer, read from the mounted middleware. */
  function mountedRoutes(): { method: string; path: string }[] {
    const routes: { method: string; path: string }[] = [];
    for (const middleware of server.app.koa.middleware as { router?: { stack: RouterLayer[] } }[]) {
      for (const layer of middleware.router?.stack ?? []) {
        for (const method of layer.methods.filter((m) => m !== 'HEAD')) {
          routes.push({ method: method.toLowerCase(), path: toOpenApiPath(layer.path) });
        }
      }
    }
    return routes;
  }

  it('is OpenAPI 3.1 with security schemes and a problem schema', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('PECtrack API');
    expect(doc.components.securitySchemes.basicAuth).toEqual({ type: 'http', scheme: 'basic' });
    expect(doc.components.securitySchemes.bearerAuth.scheme).toBe('bearer');
    expect(doc.components.schemas.Problem.required).toEqual(['type', 'title', 'status', 'detail']);
  });

  it('lists every mounted route, and nothing that is not mounted', () => {
    const mounted = mountedRoutes();
    expect(mounted.length).toBeGreaterThan(30);
    for (const { method, path } of mounted) {
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(mounted.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('describes parameters, bodies and answers from the validating schemas', () => {
    const start = doc.paths['/api/v1/instances'].post;
    expect(start.operationId).toBe('startInstance');
    expect(start['x-permission']).toBe('instances:start');
    const body = start.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties)).toEqual([
      'definitionKey',
      'definitionId',
      'businessKey',
      'variables',
    ]);
    expect(
      start.responses['201'].content['application/json'].schema.properties.status.enum,
    ).toEqual(['active', 'completed', 'terminated']);

    const tasks = doc.paths['/api/v1/tasks'].get;
    const names = tasks.parameters.map((p: Json) => p.name);
    expect(names).toEqual(
      expect.arrayContaining(['assignee', 'candidateOffice', 'status', 'dueBefore', 'limit']),
    );
    expect(tasks.parameters.find((p: Json) => p.name === 'limit').schema).toMatchObject({
      type: 'integer',
      maximum: 1000,
    });

    const claim = doc.paths['/api/v1/tasks/{id}/claim'].post;
    expect(claim.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    ]);

    const deploy = doc.paths['/api/v1/definitions'].post;
    expect(Object.keys(deploy.requestBody.content)).toEqual([
      'multipart/form-data',
      'application/xml',
      'text/xml',
    ]);
    expect(
      doc.paths['/engine-rest/deployment/create'].post.requestBody.content['multipart/form-data']
        .schema.properties,
    ).toHaveProperty('deployment-name');
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(start.security).toEqual([{ basicAuth: [] }, { bearerAuth: [] }]);
  });

  it("documents an attachment answered in its own media type, each part's charset, and the problems an operation names", () => {
    const messages = '/api/v1/messages/{id}';
    const download = doc.paths[`${messages}/parts/{index}`].get;
    expect(Object.keys(download.responses['200'].content)).toEqual(['*/*']);
    const part =
      doc.paths[`${messages}/parts`].get.responses['200'].content['application/json'].schema.items;
    expect(part.required).toContain('charset');
    expect(part.properties.charset.type).toEqual(['string', 'null']);
    const problem = {
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    };
    for (const path of ['/raw', '/body', '/parts', '/parts/{index}']) {
      const { responses } = doc.paths[`${messages}${path}`].get;
      expect(responses['409'], path).toEqual({
        description: expect.stringContaining('message-bytes-missing'),
        content: problem,
      });
      expect(responses.default, path).toEqual({ description: 'Error', content: problem });
    }
  });
});
