/** The /api/v1 resources, one file each. */
import type { ConnectorDescription } from '../../connectors/index.js';
import type { Services } from '../../services/types.js';
import type { Endpoint } from '../endpoint.js';
import { connectorEndpoints } from './connectors.js';
import { definitionEndpoints, type DeployLimits } from './definitions.js';
import { incidentEndpoints } from './incidents.js';
import { instanceEndpoints } from './instances.js';
import { messageEndpoints } from './messages.js';
import { taskEndpoints } from './tasks.js';

export function apiV1Endpoints(
  services: Services,
  limits: DeployLimits,
  connectors: ConnectorDescription[] = [],
): Endpoint[] {
  return [
    ...definitionEndpoints(services, limits),
    ...instanceEndpoints(services),
    ...taskEndpoints(services),
    ...messageEndpoints(services),
    ...incidentEndpoints(services),
    ...connectorEndpoints(connectors),
  ];
}
