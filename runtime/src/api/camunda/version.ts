/** /engine-rest/version and /engine: what clients read to learn which engine they talk to. */
import { z } from 'zod';
import { endpoint, type Endpoint } from '../endpoint.js';

/** The Camunda 7 REST version whose shapes this subset follows. */
export const CAMUNDA_COMPATIBLE_VERSION = '7.20.0';

export function versionEndpoints(): Endpoint[] {
  return [
    endpoint(
      {
        method: 'get',
        path: '/version',
        operationId: 'camundaVersion',
        summary: 'Camunda: the REST API version this subset is compatible with',
        permission: 'definitions:read',
        success: {
          status: 200,
          description: 'VersionDto',
          contentType: 'application/json',
          schema: z.object({ version: z.string() }),
        },
      },
      async () => ({ version: CAMUNDA_COMPATIBLE_VERSION }),
    ),
    endpoint(
      {
        method: 'get',
        path: '/engine',
        operationId: 'camundaEngines',
        summary: 'Camunda: the process engines behind this API (one, "default")',
        permission: 'definitions:read',
        success: {
          status: 200,
          description: 'ProcessEngineDto[]',
          contentType: 'application/json',
          schema: z.array(z.object({ name: z.string() })),
        },
      },
      async () => [{ name: 'default' }],
    ),
  ];
}
