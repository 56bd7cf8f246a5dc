/** The Camunda 7 REST subset served under /engine-rest. */
import type { Services } from '../../services/types.js';
import type { Endpoint } from '../endpoint.js';
import type { MultipartLimits } from '../http/multipart.js';
import { deploymentEndpoints } from './deployment.js';
import { processDefinitionEndpoints } from './process-definition.js';
import { processInstanceEndpoints } from './process-instance.js';
import { taskEndpoints } from './task.js';
import { versionEndpoints } from './version.js';

export { camundaErrorHandler } from './errors.js';

export function engineRestEndpoints(services: Services, limits: MultipartLimits): Endpoint[] {
  return [
    ...versionEndpoints(),
    ...deploymentEndpoints(services, limits),
    ...processDefinitionEndpoints(services),
    ...taskEndpoints(services),
    ...processInstanceEndpoints(services),
  ];
}
