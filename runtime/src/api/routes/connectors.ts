/** /api/v1/connectors: the installed connectors and their element templates, for the designer. */
import { z } from 'zod';
import type { ConnectorDescription } from '../../connectors/index.js';
import { endpoint, type Endpoint } from '../endpoint.js';

const TemplateProperty = z.looseObject({
  type: z.string(),
  binding: z.looseObject({ type: z.string() }),
});

/** The Camunda element-template shape; only what every template has is described strictly. */
const ElementTemplate = z.looseObject({
  name: z.string(),
  id: z.string(),
  appliesTo: z.array(z.string()),
  properties: z.array(TemplateProperty),
});

const ConnectorView = z.object({
  type: z.string(),
  version: z.string(),
  actions: z.array(
    z.object({
      name: z.string(),
      description: z.string().nullable(),
      /** What `<pectrack:connector type="…">` names to call this action. */
      connectorType: z.string(),
    }),
  ),
  templates: z.array(ElementTemplate),
});

export function connectorEndpoints(connectors: ConnectorDescription[]): Endpoint[] {
  return [
    endpoint(
      {
        method: 'get',
        path: '/connectors',
        operationId: 'listConnectors',
        summary: 'The installed connectors, their actions and element templates',
        permission: 'definitions:read',
        success: {
          status: 200,
          description: 'Connectors',
          contentType: 'application/json',
          schema: z.array(ConnectorView),
        },
      },
      async () => connectors,
    ),
  ];
}
