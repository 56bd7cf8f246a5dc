/** /engine-rest/process-instance and /history/process-instance: runtime and historic views of an instance. */
import { z } from 'zod';
import type { Actor, Services } from '../../services/types.js';
import { PecTrackError } from '../../errors.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { historicProcessInstanceDto, processInstanceDto } from './dto.js';
import { engineRestBase } from './process-definition.js';
import { CamundaObject, Id, page, Paging } from './schemas.js';
import { toCamundaVariables } from './variables.js';

/** Camunda's runtime view knows only running instances. */
class InstanceNotRunning extends PecTrackError {
  constructor(id: string) {
    super('not-found', 404, `Process instance with id ${id} does not exist`, { id });
  }
}

async function running(services: Services, actor: Actor, id: string) {
  const instance = await services.instances.get(actor, id).catch((err: unknown) => {
    if (err instanceof PecTrackError && err.status === 404) throw new InstanceNotRunning(id);
    throw err;
  });
  if (instance.status !== 'active') throw new InstanceNotRunning(id);
  return instance;
}

function deleteReason(
  history: { event: string; data: Record<string, unknown> | null }[],
): string | null {
  const terminated = history.find((entry) => entry.event === 'processTerminated');
  const reason = terminated?.data?.reason;
  return typeof reason === 'string' ? reason : null;
}

const InstanceQuery = z.object({
  processDefinitionKey: z.string().optional(),
  businessKey: z.string().optional(),
  ...Paging,
});

export function processInstanceEndpoints(services: Services): Endpoint[] {
  return [
    endpoint(
      {
        method: 'get',
        path: '/process-instance',
        operationId: 'camundaListProcessInstances',
        summary: 'Camunda: running process instances by definition key and business key',
        permission: 'instances:read',
        query: InstanceQuery,
        success: {
          status: 200,
          description: 'ProcessInstanceDto[]',
          contentType: 'application/json',
          schema: z.array(CamundaObject),
        },
      },
      async ({ ctx, actor, query }) => {
        const instances = await services.instances.list(actor, {
          definitionKey: query.processDefinitionKey,
          businessKey: query.businessKey,
          status: 'active',
        });
        return page(instances, query).map((instance) =>
          processInstanceDto(instance, engineRestBase(ctx)),
        );
      },
    ),
    endpoint(
      {
        method: 'delete',
        path: '/process-instance/:id',
        operationId: 'camundaDeleteProcessInstance',
        summary: 'Camunda: cancel a running process instance',
        permission: 'instances:cancel',
        params: Id,
        success: { status: 204, description: 'Cancelled' },
      },
      async ({ actor, params }) => {
        await running(services, actor, params.id);
        await services.instances.cancel(actor, params.id, 'deleted through the Camunda REST API');
      },
    ),
    endpoint(
      {
        method: 'get',
        path: '/process-instance/:id',
        operationId: 'camundaGetProcessInstance',
        summary: 'Camunda: a running process instance (404 once it has ended)',
        permission: 'instances:read',
        params: Id,
        success: {
          status: 200,
          description: 'ProcessInstanceDto',
          contentType: 'application/json',
          schema: CamundaObject,
        },
      },
      async ({ ctx, actor, params }) =>
        processInstanceDto(await running(services, actor, params.id), engineRestBase(ctx)),
    ),
    endpoint(
      {
        method: 'get',
        path: '/process-instance/:id/variables',
        operationId: 'camundaGetProcessInstanceVariables',
        summary: 'Camunda: the variables of a running process instance',
        permission: 'instances:read',
        params: Id,
        success: {
          status: 200,
          description: 'VariableValueDto map',
          contentType: 'application/json',
          schema: CamundaObject,
        },
      },
      async ({ actor, params }) =>
        toCamundaVariables((await running(services, actor, params.id)).variables),
    ),
    endpoint(
      {
        method: 'get',
        path: '/history/process-instance/:id',
        operationId: 'camundaGetHistoricProcessInstance',
        summary:
          'Camunda: historic process instance, state ACTIVE / COMPLETED / EXTERNALLY_TERMINATED',
        permission: 'instances:read',
        params: Id,
        success: {
          status: 200,
          description: 'HistoricProcessInstanceDto',
          contentType: 'application/json',
          schema: CamundaObject,
        },
      },
      async ({ actor, params }) => {
        const instance = await services.instances.get(actor, params.id);
        return historicProcessInstanceDto(instance, deleteReason(instance.history));
      },
    ),
  ];
}
