/** Builds the OpenAPI 3.1 document from the catalog, with zod 4's JSON Schema output. */
import { z } from 'zod';
import type { ApiCatalog, ContentDoc, OperationDoc } from './catalog.js';

type Json = Record<string, unknown>;

const PROBLEM_SCHEMA: Json = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: {
      type: 'string',
      description: 'urn:pectrack:request:<request id>, also in the X-Request-Id header',
    },
    problems: { type: 'array', items: { type: 'object' } },
  },
};

const PROBLEM: Json = {
  'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
};

export function toOpenApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  // The document declares its JSON Schema dialect once (OpenAPI 3.1), not per schema.
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  delete json.$schema;
  return json;
}

function parameters(op: OperationDoc): Json[] {
  const list: Json[] = [];
  for (const [where, shape] of [
    ['path', op.params],
    ['query', op.query],
    ['header', op.headers],
  ] as const) {
    if (!shape) continue;
    const json = schemaOf(shape, 'input') as {
      properties?: Record<string, Json>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      list.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema,
      });
    }
  }
  return list;
}

function content(docs: Partial<ContentDoc>[], io: 'input' | 'output'): Json {
  const out: Json = {};
  for (const doc of docs) {
    if (!doc.contentType) continue;
    out[doc.contentType] = {
      schema: doc.schema ? schemaOf(doc.schema, io) : (doc.jsonSchema ?? {}),
    };
  }
  return out;
}

function operation(op: OperationDoc): Json {
  const responses: Json = {};
  for (const response of op.responses) {
    responses[String(response.status)] = {
      description: response.description,
      ...(response.contentType ? { content: content([response], 'output') } : {}),
    };
  }
  for (const problem of op.problems ?? []) {
    responses[String(problem.status)] = { description: problem.description, content: PROBLEM };
  }
  responses.default = { description: 'Error', content: PROBLEM };
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    ...(op.permission ? { 'x-permission': op.permission } : {}),
    security: op.secured ? [{ basicAuth: [] }, { bearerAuth: [] }] : [],
    parameters: parameters(op),
    ...(op.requestBody
      ? { requestBody: { required: true, content: content(op.requestBody, 'input') } }
      : {}),
    responses,
  };
}

export function buildOpenApiDocument(catalog: ApiCatalog, version: string): Json {
  const paths: Record<string, Json> = {};
  for (const op of catalog.operations) {
    const path = toOpenApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operation(op) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'PECtrack API',
      version,
      description:
        'PECtrack REST API (/api/v1) and the Camunda 7 REST compatibility subset (/engine-rest). Errors are RFC 9457 problem documents on /api/v1 and Camunda error objects on /engine-rest.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: {
        basicAuth: { type: 'http', scheme: 'basic' },
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'API token (pct_...) from `pectrack token create`',
        },
      },
      schemas: { Problem: PROBLEM_SCHEMA },
    },
  };
}
