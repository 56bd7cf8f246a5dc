/** /api/v1/definitions: deploy BPMN (multipart files or a raw XML body), list, versions, XML. */
import type { Context } from 'koa';
import { z } from 'zod';
import type { DeployInput, Services } from '../../services/types.js';
import { BadRequestError } from '../../errors.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { readText } from '../http/body.js';
import { UnsupportedMediaTypeError } from '../http/errors.js';
import { isMultipart, readMultipart, type MultipartLimits } from '../http/multipart.js';
import { guardXml } from '../http/xml-guard.js';
import { DefinitionInfo, DeployResult, IdParams, QueryBoolean } from '../schemas.js';

export interface DeployLimits {
  xmlBytes: number;
  multipart: MultipartLimits;
}

const XML_TYPES = ['application/xml', 'text/xml'];

const DeployQuery = z.object({
  name: z.string().min(1).max(200).optional(),
  duplicateFiltering: QueryBoolean.optional(),
});

/** Reads the diagrams of a deploy request, whichever of the two accepted forms it uses. */
export async function readDeployment(
  ctx: Context,
  limits: DeployLimits,
  query: z.output<typeof DeployQuery>,
): Promise<DeployInput> {
  if (isMultipart(ctx)) {
    const form = await readMultipart(ctx, limits.multipart);
    const files = form.files.map((file) => ({
      filename: file.filename,
      xml: file.content.toString('utf8'),
    }));
    if (files.length === 0)
      throw new BadRequestError('no-files', 'the multipart request carries no BPMN file part');
    files.forEach((file) => guardXml(file.xml, `file ${file.filename}`));
    return {
      name: form.fields.name ?? query.name ?? files[0]!.filename,
      source: form.fields.source ?? null,
      files,
      duplicateFiltering:
        form.fields.duplicateFiltering === 'true' || query.duplicateFiltering === true,
    };
  }
  if (ctx.is(...XML_TYPES)) {
    const xml = await readText(ctx, limits.xmlBytes);
    guardXml(xml, 'request body');
    const name = query.name ?? 'deployment';
    return {
      name,
      source: null,
      files: [{ filename: `${name}.bpmn`, xml }],
      duplicateFiltering: query.duplicateFiltering,
    };
  }
  throw new UnsupportedMediaTypeError(ctx.get('content-type') || undefined, [
    'multipart/form-data',
    ...XML_TYPES,
  ]);
}

export function definitionEndpoints(services: Services, limits: DeployLimits): Endpoint[] {
  return [
    endpoint(
      {
        method: 'post',
        path: '/definitions',
        operationId: 'deployDefinitions',
        summary:
          'Deploy BPMN diagrams: multipart file parts, or one diagram as an XML body (?name=)',
        permission: 'definitions:deploy',
        query: DeployQuery,
        otherBody: [
          {
            contentType: 'multipart/form-data',
            jsonSchema: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                source: { type: 'string' },
                duplicateFiltering: { type: 'string', enum: ['true', 'false'] },
              },
              additionalProperties: {
                type: 'string',
                format: 'binary',
                description: '.bpmn file parts',
              },
            },
          },
          {
            contentType: 'application/xml',
            jsonSchema: { type: 'string', description: 'BPMN 2.0 XML' },
          },
          { contentType: 'text/xml', jsonSchema: { type: 'string', description: 'BPMN 2.0 XML' } },
        ],
        success: {
          status: 201,
          description: 'Deployed',
          contentType: 'application/json',
          schema: DeployResult,
        },
      },
      async ({ ctx, actor, query }) =>
        services.definitions.deploy(actor, await readDeployment(ctx, limits, query)),
    ),
    endpoint(
      {
        method: 'get',
        path: '/definitions',
        operationId: 'listDefinitions',
        summary: 'List process definitions',
        permission: 'definitions:read',
        query: z.object({ key: z.string().optional(), latestOnly: QueryBoolean.optional() }),
        success: {
          status: 200,
          description: 'Definitions',
          contentType: 'application/json',
          schema: z.array(DefinitionInfo),
        },
      },
      async ({ actor, query }) => services.definitions.list(actor, query),
    ),
    endpoint(
      {
        method: 'get',
        path: '/definitions/key/:key/versions',
        operationId: 'listDefinitionVersions',
        summary: 'Every deployed version of one process key',
        permission: 'definitions:read',
        params: z.object({ key: z.string().min(1) }),
        success: {
          status: 200,
          description: 'Versions',
          contentType: 'application/json',
          schema: z.array(DefinitionInfo),
        },
      },
      async ({ actor, params }) =>
        services.definitions.list(actor, { key: params.key, latestOnly: false }),
    ),
    endpoint(
      {
        method: 'get',
        path: '/definitions/:id',
        operationId: 'getDefinition',
        summary: 'One process definition',
        permission: 'definitions:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'Definition',
          contentType: 'application/json',
          schema: DefinitionInfo,
        },
      },
      async ({ actor, params }) => services.definitions.get(actor, params.id),
    ),
    endpoint(
      {
        method: 'get',
        path: '/definitions/:id/xml',
        operationId: 'getDefinitionXml',
        summary: 'The BPMN XML of a process definition',
        permission: 'definitions:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'BPMN 2.0 XML',
          contentType: 'application/xml',
          jsonSchema: { type: 'string' },
        },
      },
      async ({ actor, params }) => services.definitions.getXml(actor, params.id),
    ),
  ];
}
