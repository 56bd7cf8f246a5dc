/** /api/v1/tasks: the desk's operations on user tasks. */
import { z } from 'zod';
import type { Services } from '../../services/types.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { IdParams, Instant, Paging, TaskInfo, TaskStatus, Variables } from '../schemas.js';

export function taskEndpoints(services: Services): Endpoint[] {
  return [
    endpoint(
      {
        method: 'get',
        path: '/tasks',
        operationId: 'listTasks',
        summary: 'List tasks by assignee, candidate office or user, status, instance, due date',
        permission: 'tasks:read',
        query: z.object({
          instanceId: z.string().optional(),
          assignee: z.string().optional(),
          candidateOffice: z.string().optional(),
          candidateUser: z.string().optional(),
          status: TaskStatus.optional(),
          dueBefore: Instant.optional(),
          ...Paging,
        }),
        success: {
          status: 200,
          description: 'Tasks',
          contentType: 'application/json',
          schema: z.array(TaskInfo),
        },
      },
      async ({ actor, query }) => services.tasks.list(actor, query),
    ),
    endpoint(
      {
        method: 'get',
        path: '/tasks/:id',
        operationId: 'getTask',
        summary: 'One task',
        permission: 'tasks:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'Task',
          contentType: 'application/json',
          schema: TaskInfo,
        },
      },
      async ({ actor, params }) => services.tasks.get(actor, params.id),
    ),
    endpoint(
      {
        method: 'post',
        path: '/tasks/:id/claim',
        operationId: 'claimTask',
        summary: 'Claim a task for the calling user',
        permission: 'tasks:work',
        params: IdParams,
        success: {
          status: 200,
          description: 'Claimed',
          contentType: 'application/json',
          schema: TaskInfo,
        },
      },
      async ({ actor, params }) => services.tasks.claim(actor, params.id),
    ),
    endpoint(
      {
        method: 'post',
        path: '/tasks/:id/unclaim',
        operationId: 'unclaimTask',
        summary: 'Give a claimed task back to its candidates',
        permission: 'tasks:work',
        params: IdParams,
        success: {
          status: 200,
          description: 'Unclaimed',
          contentType: 'application/json',
          schema: TaskInfo,
        },
      },
      async ({ actor, params }) => services.tasks.unclaim(actor, params.id),
    ),
    endpoint(
      {
        method: 'post',
        path: '/tasks/:id/assign',
        operationId: 'assignTask',
        summary: 'Assign a task to a user, or clear its assignee with null',
        permission: 'tasks:assign',
        params: IdParams,
        body: z.object({ assignee: z.string().min(1).max(200).nullable() }),
        success: {
          status: 200,
          description: 'Assigned',
          contentType: 'application/json',
          schema: TaskInfo,
        },
      },
      async ({ actor, params, body }) => services.tasks.assign(actor, params.id, body.assignee),
    ),
    endpoint(
      {
        method: 'post',
        path: '/tasks/:id/complete',
        operationId: 'completeTask',
        summary: 'Complete a task with variables; 409 when it was already completed',
        permission: 'tasks:work',
        params: IdParams,
        body: z.object({ variables: Variables.optional() }),
        success: { status: 204, description: 'Completed' },
      },
      async ({ actor, params, body }) => {
        await services.tasks.complete(actor, params.id, body.variables);
      },
    ),
  ];
}
