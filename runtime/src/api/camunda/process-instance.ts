/** /engine-rest/process-instance and /history/process-instance: runtime and historic views of an instance. */
import type { Services } from '../../services/types.js';
import { PecTrackError } from '../../errors.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { historicProcessInstanceDto, processInstanceDto } from './dto.js';
import { engineRestBase } from './process-definition.js';
import { CamundaObject, Id } from './schemas.js';
import { toCamundaVariables } from './variables.js';

/** Camunda's runtime view knows only running instances. */
class InstanceNotRunning extends PecTrackError {
  constructor(id: string) {
    super('not-found', 404, `Process instance with id ${id} does not exist`, { id });
  }
}

async function running(
  services: Services,
  actor: Parameters<Services['instances']['get']>[0],
  id: string,
) {
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

export function processInstanceEndpoints(services: Services): Endpoint[] {
  return [
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
