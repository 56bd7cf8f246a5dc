/** /engine-rest/process-definition: look up definitions and start instances. */
import type { Context } from 'koa';
import { z } from 'zod';
import type { Actor, DefinitionInfo, Services } from '../../services/types.js';
import { NotFoundError } from '../../errors.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { processDefinitionDto, processInstanceDto } from './dto.js';
import {
  CamundaBoolean,
  CamundaObject,
  CamundaVariables,
  Id,
  Key,
  page,
  Paging,
} from './schemas.js';
import { fromCamundaVariablesFor, toCamundaVariables } from './variables.js';

const StartBody = z.object({
  businessKey: z.string().max(200).nullable().optional(),
  variables: CamundaVariables,
  withVariablesInReturn: z.boolean().optional(),
});

export function engineRestBase(ctx: Context): string {
  return `${ctx.origin}/engine-rest`;
}

async function latest(services: Services, actor: Actor, key: string): Promise<DefinitionInfo> {
  const [definition] = await services.definitions.list(actor, { key, latestOnly: true });
  if (!definition) throw new NotFoundError('process definition with key', key);
  return definition;
}

async function start(
  services: Services,
  ctx: Context,
  actor: Actor,
  target: { definitionId?: string; definitionKey?: string },
  body: z.output<typeof StartBody>,
) {
  const label = target.definitionId ?? target.definitionKey;
  const variables = fromCamundaVariablesFor(
    `Cannot instantiate process definition ${label}`,
    body.variables,
  );
  const instance = await services.instances.start(actor, {
    ...target,
    businessKey: body.businessKey ?? null,
    variables,
  });
  const dto = processInstanceDto(instance, engineRestBase(ctx));
  return body.withVariablesInReturn
    ? { ...dto, variables: toCamundaVariables(instance.variables) }
    : dto;
}

const ProcessDefinitionDto = CamundaObject.describe('ProcessDefinitionDto');
const DiagramDto = z.object({ id: z.string(), bpmn20Xml: z.string() });

async function diagram(services: Services, actor: Actor, definition: DefinitionInfo) {
  return { id: definition.id, bpmn20Xml: await services.definitions.getXml(actor, definition.id) };
}
const ProcessInstanceDto = CamundaObject.describe('ProcessInstanceWithVariablesDto');

export function processDefinitionEndpoints(services: Services): Endpoint[] {
  return [
    endpoint(
      {
        method: 'get',
        path: '/process-definition',
        operationId: 'camundaListProcessDefinitions',
        summary: 'Camunda: list process definitions',
        permission: 'definitions:read',
        query: z.object({
          key: z.string().optional(),
          latestVersion: CamundaBoolean.optional(),
          ...Paging,
        }),
        success: {
          status: 200,
          description: 'ProcessDefinitionDto[]',
          contentType: 'application/json',
          schema: z.array(ProcessDefinitionDto),
        },
      },
      async ({ actor, query }) => {
        const definitions = await services.definitions.list(actor, {
          key: query.key,
          latestOnly: query.latestVersion,
        });
        return page(definitions, query).map((d) => processDefinitionDto(d, null));
      },
    ),
    endpoint(
      {
        method: 'get',
        path: '/process-definition/key/:key',
        operationId: 'camundaGetLatestProcessDefinition',
        summary: 'Camunda: the latest version of a process definition key',
        permission: 'definitions:read',
        params: Key,
        success: {
          status: 200,
          description: 'ProcessDefinitionDto',
          contentType: 'application/json',
          schema: ProcessDefinitionDto,
        },
      },
      async ({ actor, params }) =>
        processDefinitionDto(await latest(services, actor, params.key), null),
    ),
    endpoint(
      {
        method: 'get',
        path: '/process-definition/:id',
        operationId: 'camundaGetProcessDefinition',
        summary: 'Camunda: one process definition',
        permission: 'definitions:read',
        params: Id,
        success: {
          status: 200,
          description: 'ProcessDefinitionDto',
          contentType: 'application/json',
          schema: ProcessDefinitionDto,
        },
      },
      async ({ actor, params }) =>
        processDefinitionDto(await services.definitions.get(actor, params.id), null),
    ),
    endpoint(
      {
        method: 'get',
        path: '/process-definition/key/:key/xml',
        operationId: 'camundaGetLatestProcessDefinitionXml',
        summary: 'Camunda: the BPMN XML of the latest version of a key',
        permission: 'definitions:read',
        params: Key,
        success: {
          status: 200,
          description: 'ProcessDefinitionDiagramDto',
          contentType: 'application/json',
          schema: DiagramDto,
        },
      },
      async ({ actor, params }) =>
        diagram(services, actor, await latest(services, actor, params.key)),
    ),
    endpoint(
      {
        method: 'get',
        path: '/process-definition/:id/xml',
        operationId: 'camundaGetProcessDefinitionXml',
        summary: 'Camunda: the BPMN XML of a process definition',
        permission: 'definitions:read',
        params: Id,
        success: {
          status: 200,
          description: 'ProcessDefinitionDiagramDto',
          contentType: 'application/json',
          schema: DiagramDto,
        },
      },
      async ({ actor, params }) =>
        diagram(services, actor, await services.definitions.get(actor, params.id)),
    ),
    endpoint(
      {
        method: 'post',
        path: '/process-definition/key/:key/start',
        operationId: 'camundaStartByKey',
        summary: 'Camunda: start the latest version of a key',
        permission: 'instances:start',
        params: Key,
        body: StartBody,
        success: {
          status: 200,
          description: 'ProcessInstanceWithVariablesDto',
          contentType: 'application/json',
          schema: ProcessInstanceDto,
        },
      },
      async ({ ctx, actor, params, body }) =>
        start(services, ctx, actor, { definitionKey: params.key }, body),
    ),
    endpoint(
      {
        method: 'post',
        path: '/process-definition/:id/start',
        operationId: 'camundaStartById',
        summary: 'Camunda: start a process definition by id',
        permission: 'instances:start',
        params: Id,
        body: StartBody,
        success: {
          status: 200,
          description: 'ProcessInstanceWithVariablesDto',
          contentType: 'application/json',
          schema: ProcessInstanceDto,
        },
      },
      async ({ ctx, actor, params, body }) =>
        start(services, ctx, actor, { definitionId: params.id }, body),
    ),
  ];
}
