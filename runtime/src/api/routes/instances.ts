/** /api/v1/instances: start by key or definition id, list, inspect, cancel. */
import { z } from 'zod';
import type { Services } from '../../services/types.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import {
  IdParams,
  InstanceDetail,
  InstanceInfo,
  InstanceStatus,
  Paging,
  QueryBoolean,
  Variables,
} from '../schemas.js';

const StartBody = z
  .object({
    definitionKey: z.string().min(1).optional(),
    definitionId: z.string().min(1).optional(),
    businessKey: z.string().max(200).nullable().optional(),
    variables: Variables.optional(),
  })
  .refine((body) => Boolean(body.definitionKey) !== Boolean(body.definitionId), {
    message: 'give exactly one of definitionKey or definitionId',
    path: ['definitionKey'],
  });

export function instanceEndpoints(services: Services): Endpoint[] {
  return [
    endpoint(
      {
        method: 'post',
        path: '/instances',
        operationId: 'startInstance',
        summary: 'Start a process instance (latest version of a key, or a definition id)',
        permission: 'instances:start',
        body: StartBody,
        success: {
          status: 201,
          description: 'Started',
          contentType: 'application/json',
          schema: InstanceInfo,
        },
      },
      async ({ actor, body }) => services.instances.start(actor, body),
    ),
    endpoint(
      {
        method: 'get',
        path: '/instances',
        operationId: 'listInstances',
        summary: 'List process instances',
        permission: 'instances:read',
        query: z.object({
          definitionKey: z.string().optional(),
          businessKey: z.string().optional(),
          status: InstanceStatus.optional(),
          hasIncident: QueryBoolean.optional(),
          ...Paging,
        }),
        success: {
          status: 200,
          description: 'Instances',
          contentType: 'application/json',
          schema: z.array(InstanceInfo),
        },
      },
      async ({ actor, query }) => services.instances.list(actor, query),
    ),
    endpoint(
      {
        method: 'get',
        path: '/instances/:id',
        operationId: 'getInstance',
        summary: 'One process instance with its execution state, history and incidents',
        permission: 'instances:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'Instance',
          contentType: 'application/json',
          schema: InstanceDetail,
        },
      },
      async ({ actor, params }) => services.instances.get(actor, params.id),
    ),
    endpoint(
      {
        method: 'post',
        path: '/instances/:id/cancel',
        operationId: 'cancelInstance',
        summary: 'Cancel a running process instance',
        permission: 'instances:cancel',
        params: IdParams,
        body: z.object({
          reason: z.string().min(1).max(1000).default('cancelled through the API'),
        }),
        success: {
          status: 200,
          description: 'Cancelled',
          contentType: 'application/json',
          schema: InstanceInfo,
        },
      },
      async ({ actor, params, body }) => services.instances.cancel(actor, params.id, body.reason),
    ),
  ];
}
