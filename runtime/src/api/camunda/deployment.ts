/** /engine-rest/deployment: what Camunda Modeler calls to check the connection and to deploy. */
import type { Context } from 'koa';
import { z } from 'zod';
import type { Actor, Services } from '../../services/types.js';
import { BadRequestError, ForbiddenError } from '../../errors.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { readMultipart, type MultipartLimits, type MultipartForm } from '../http/multipart.js';
import { guardXml } from '../http/xml-guard.js';
import { deploymentDto, processDefinitionDto } from './dto.js';
import { CamundaObject, page, Paging } from './schemas.js';

/** Form parts with a meaning of their own; every other part is a resource. */
const RESERVED = new Set([
  'deployment-name',
  'deployment-source',
  'enable-duplicate-filtering',
  'deploy-changed-only',
  'deployment-activation-time',
  'tenant-id',
]);

function isBpmn(filename: string, content: string): boolean {
  return (
    /\.bpmn(20\.xml)?$/i.test(filename) || /<(\w+:)?definitions[\s>]/.test(content.slice(0, 4096))
  );
}

/** The diagrams of the form; other attachments (forms, scripts) are not executable here and are skipped. */
function resources(form: MultipartForm): { filename: string; xml: string }[] {
  const parts = [
    ...form.files.map((file) => ({ filename: file.filename, xml: file.content.toString('utf8') })),
    ...Object.entries(form.fields)
      .filter(([name]) => !RESERVED.has(name))
      .map(([name, value]) => ({ filename: name, xml: value })),
  ];
  return parts.filter((part) => isBpmn(part.filename, part.xml));
}

function checkTenant(actor: Actor, tenantId: string | undefined): void {
  if (tenantId && tenantId !== actor.tenantId) throw new ForbiddenError(`tenant:${tenantId}`);
}

/** The file a definition came from: the one whose XML declares a process with its key. */
function resourceOf(key: string, files: { filename: string; xml: string }[]): string | null {
  const match = files.find((file) => file.xml.includes(`id="${key}"`)) ?? files[0];
  return match?.filename ?? null;
}

async function create(services: Services, limits: MultipartLimits, ctx: Context, actor: Actor) {
  const form = await readMultipart(ctx, limits);
  const files = resources(form);
  ctx.state.resourceName = files[0]?.filename;
  if (files.length === 0)
    throw new BadRequestError('no-files', 'the deployment contains no BPMN resource');
  files.forEach((file) => guardXml(file.xml, `resource ${file.filename}`));
  checkTenant(actor, form.fields['tenant-id']);
  const result = await services.definitions.deploy(actor, {
    name: form.fields['deployment-name'] ?? files[0]!.filename,
    source: form.fields['deployment-source'] ?? null,
    files,
    duplicateFiltering:
      form.fields['enable-duplicate-filtering'] === 'true' ||
      form.fields['deploy-changed-only'] === 'true',
  });
  // Camunda echoes the tenant only when the client named one.
  const tenantId = form.fields['tenant-id'] ?? null;
  const deployed = Object.fromEntries(
    result.definitions.map((definition) => [
      definition.id,
      processDefinitionDto(definition, resourceOf(definition.key, files), tenantId),
    ]),
  );
  return {
    ...deploymentDto({
      id: result.deploymentId,
      name: result.name,
      deployedAt: result.deployedAt,
      source: form.fields['deployment-source'],
    }),
    tenantId,
    deployedProcessDefinitions: deployed,
    deployedCaseDefinitions: null,
    deployedDecisionDefinitions: null,
    deployedDecisionRequirementsDefinitions: null,
  };
}

export function deploymentEndpoints(services: Services, limits: MultipartLimits): Endpoint[] {
  return [
    endpoint(
      {
        method: 'post',
        path: '/deployment/create',
        operationId: 'camundaCreateDeployment',
        summary: 'Camunda: create a deployment (multipart, as Camunda Modeler sends it)',
        permission: 'definitions:deploy',
        otherBody: [
          {
            contentType: 'multipart/form-data',
            jsonSchema: {
              type: 'object',
              properties: Object.fromEntries(
                [...RESERVED].map((name) => [name, { type: 'string' }]),
              ),
              additionalProperties: { type: 'string', format: 'binary' },
            },
          },
        ],
        success: {
          status: 200,
          description: 'DeploymentWithDefinitionsDto',
          contentType: 'application/json',
          schema: CamundaObject,
        },
      },
      async ({ ctx, actor }) => create(services, limits, ctx, actor),
    ),
    endpoint(
      {
        method: 'get',
        path: '/deployment',
        operationId: 'camundaListDeployments',
        summary: 'Camunda: list deployments (Modeler checks the connection with maxResults=0)',
        permission: 'definitions:read',
        query: z.object({ name: z.string().optional(), ...Paging }),
        success: {
          status: 200,
          description: 'DeploymentDto[]',
          contentType: 'application/json',
          schema: z.array(CamundaObject),
        },
      },
      async ({ actor, query }) => {
        if (query.maxResults === 0) return [];
        const deployments = await services.definitions.listDeployments(actor);
        const named = query.name ? deployments.filter((d) => d.name === query.name) : deployments;
        return page(named, query).map((d) => deploymentDto(d));
      },
    ),
    endpoint(
      {
        method: 'get',
        path: '/deployment/count',
        operationId: 'camundaCountDeployments',
        summary: 'Camunda: count deployments',
        permission: 'definitions:read',
        success: {
          status: 200,
          description: 'CountResultDto',
          contentType: 'application/json',
          schema: z.object({ count: z.number() }),
        },
      },
      async ({ actor }) => ({ count: (await services.definitions.listDeployments(actor)).length }),
    ),
  ];
}
