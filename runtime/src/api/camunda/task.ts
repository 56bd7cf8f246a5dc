/** /engine-rest/task: list, claim and complete user tasks as Camunda clients do. */
import { z } from 'zod';
import type { Services, TaskInfo } from '../../services/types.js';
import { BadRequestError } from '../../errors.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { parseCamundaDate } from './dates.js';
import { taskDto } from './dto.js';
import { CamundaObject, CamundaVariables, Id, page, Paging } from './schemas.js';
import { fromCamundaVariablesFor, toCamundaVariables } from './variables.js';

const TaskQuery = z.object({
  processInstanceId: z.string().optional(),
  processDefinitionId: z.string().optional(),
  taskDefinitionKey: z.string().optional(),
  assignee: z.string().optional(),
  candidateGroup: z.string().optional(),
  candidateUser: z.string().optional(),
  dueBefore: z.string().optional(),
  ...Paging,
});

function dueBefore(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const date = parseCamundaDate(text);
  if (!date)
    throw new BadRequestError(
      'invalid-request',
      `Cannot set query parameter 'dueBefore' to value '${text}'`,
    );
  return date.toISOString();
}

function matches(task: TaskInfo, query: z.output<typeof TaskQuery>): boolean {
  return (
    (!query.processDefinitionId || task.definitionId === query.processDefinitionId) &&
    (!query.taskDefinitionKey || task.elementId === query.taskDefinitionKey)
  );
}

const TaskDto = CamundaObject.describe('TaskDto');

export function taskEndpoints(services: Services): Endpoint[] {
  return [
    endpoint(
      {
        method: 'get',
        path: '/task',
        operationId: 'camundaListTasks',
        summary:
          'Camunda: list open tasks (processInstanceId, assignee, candidateGroup, candidateUser, dueBefore)',
        permission: 'tasks:read',
        query: TaskQuery,
        success: {
          status: 200,
          description: 'TaskDto[]',
          contentType: 'application/json',
          schema: z.array(TaskDto),
        },
      },
      async ({ actor, query }) => {
        const tasks = await services.tasks.list(actor, {
          status: 'open',
          instanceId: query.processInstanceId,
          assignee: query.assignee,
          candidateOffice: query.candidateGroup,
          candidateUser: query.candidateUser,
          dueBefore: dueBefore(query.dueBefore),
        });
        return page(
          tasks.filter((task) => matches(task, query)),
          query,
        ).map(taskDto);
      },
    ),
    endpoint(
      {
        method: 'get',
        path: '/task/:id',
        operationId: 'camundaGetTask',
        summary: 'Camunda: one task',
        permission: 'tasks:read',
        params: Id,
        success: {
          status: 200,
          description: 'TaskDto',
          contentType: 'application/json',
          schema: TaskDto,
        },
      },
      async ({ actor, params }) => taskDto(await services.tasks.get(actor, params.id)),
    ),
    endpoint(
      {
        method: 'post',
        path: '/task/:id/claim',
        operationId: 'camundaClaimTask',
        summary: 'Camunda: claim a task for a user',
        permission: 'tasks:work',
        params: Id,
        body: z.object({ userId: z.string().min(1).optional() }),
        success: { status: 204, description: 'Claimed' },
      },
      async ({ actor, params, body }) => {
        await services.tasks.claim(actor, params.id, body.userId);
      },
    ),
    endpoint(
      {
        method: 'post',
        path: '/task/:id/unclaim',
        operationId: 'camundaUnclaimTask',
        summary: 'Camunda: unclaim a task',
        permission: 'tasks:work',
        params: Id,
        success: { status: 204, description: 'Unclaimed' },
      },
      async ({ actor, params }) => {
        await services.tasks.unclaim(actor, params.id);
      },
    ),
    endpoint(
      {
        method: 'post',
        path: '/task/:id/complete',
        operationId: 'camundaCompleteTask',
        summary: 'Camunda: complete a task with typed variables',
        permission: 'tasks:work',
        params: Id,
        body: z.object({
          variables: CamundaVariables,
          withVariablesInReturn: z.boolean().optional(),
        }),
        success: {
          status: 204,
          description: 'Completed (200 with the variables when withVariablesInReturn)',
        },
      },
      async ({ actor, params, body }) => {
        const variables = fromCamundaVariablesFor(
          `Cannot submit task form ${params.id}`,
          body.variables,
        );
        const task = body.withVariablesInReturn ? await services.tasks.get(actor, params.id) : null;
        await services.tasks.complete(actor, params.id, variables);
        if (!task) return undefined;
        const instance = await services.instances.get(actor, task.instanceId);
        return toCamundaVariables(instance.variables);
      },
    ),
  ];
}
