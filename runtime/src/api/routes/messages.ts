/** /api/v1/messages: correlate a BPMN message to the instances waiting for it, or keep it for a while. */
import { z } from 'zod';
import type { Services } from '../../services/types.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { Variables } from '../schemas.js';

const MAX_TIME_TO_LIVE_MS = 90 * 24 * 3_600_000;

export function messageEndpoints(services: Services): Endpoint[] {
  return [
    endpoint(
      {
        method: 'post',
        path: '/messages/correlate',
        operationId: 'correlateMessage',
        // With timeToLiveMs, a message no instance waits for is kept for the first that does.
        summary:
          'Deliver a message (name + correlation key) to the instances waiting for it, or keep it for timeToLiveMs',
        permission: 'messages:correlate',
        body: z.object({
          name: z.string().min(1).max(200),
          correlationKey: z.string().max(500).nullable().optional(),
          variables: Variables.optional(),
          timeToLiveMs: z
            .number()
            .int()
            .min(0)
            .max(MAX_TIME_TO_LIVE_MS)
            .optional()
            .describe(
              'How long to keep the message when no instance waits for it (at most 90 days)',
            ),
        }),
        success: {
          status: 200,
          description: 'Correlation result',
          contentType: 'application/json',
          schema: z.object({
            matched: z.number().int(),
            instanceIds: z.array(z.string()),
            buffered: z.boolean(),
          }),
        },
      },
      async ({ actor, body }) => services.messages.correlate(actor, body),
    ),
  ];
}
