/** /api/v1/incidents: what went wrong in running instances, and retry. */
import { z } from 'zod';
import type { Services } from '../../services/types.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { IdParams, IncidentInfo, Variables } from '../schemas.js';

export function incidentEndpoints(services: Services): Endpoint[] {
  return [
    endpoint(
      {
        method: 'get',
        path: '/incidents',
        operationId: 'listIncidents',
        summary: 'List incidents',
        permission: 'incidents:read',
        query: z.object({
          instanceId: z.string().optional(),
          status: z.enum(['open', 'resolved']).optional(),
        }),
        success: {
          status: 200,
          description: 'Incidents',
          contentType: 'application/json',
          schema: z.array(IncidentInfo),
        },
      },
      async ({ actor, query }) => services.incidents.list(actor, query),
    ),
    endpoint(
      {
        method: 'post',
        path: '/incidents/:id/retry',
        operationId: 'retryIncident',
        summary:
          'Retry the step that raised an incident, optionally after setting variables (a corrected address, a fixed amount)',
        permission: 'incidents:retry',
        params: IdParams,
        body: z.object({ variables: Variables.optional() }),
        success: { status: 204, description: 'Retried' },
      },
      async ({ actor, params, body }) => {
        await services.incidents.retry(actor, params.id, body.variables);
      },
    ),
  ];
}
