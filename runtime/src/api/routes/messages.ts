/** /api/v1/messages: correlate a BPMN message to the instances waiting for it. */
import { z } from 'zod';
import type { Services } from '../../services/types.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { Variables } from '../schemas.js';

export function messageEndpoints(services: Services): Endpoint[] {
  return [
    endpoint(
      {
        method: 'post',
        path: '/messages/correlate',
        operationId: 'correlateMessage',
        summary: 'Deliver a message (name + correlation key) to the instances waiting for it',
        permission: 'messages:correlate',
        body: z.object({
          name: z.string().min(1).max(200),
          correlationKey: z.string().max(500).nullable().optional(),
          variables: Variables.optional(),
        }),
        success: {
          status: 200,
          description: 'Correlation result',
          contentType: 'application/json',
          schema: z.object({ matched: z.number().int(), instanceIds: z.array(z.string()) }),
        },
      },
      async ({ actor, body }) => services.messages.correlate(actor, body),
    ),
  ];
}
