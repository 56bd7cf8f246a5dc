import type { NodeKind } from '../model/graph.js';
import type { Behaviour } from './behaviour.js';
import { eventBehaviours } from './events.js';
import { gatewayBehaviours } from './gateways.js';
import { messageBehaviours } from './messages.js';
import { subProcessBehaviours } from './sub-processes.js';
import { taskBehaviours } from './tasks.js';

/** Every node kind has exactly one behaviour; the compiler only produces these kinds. */
export const behaviours: Readonly<Record<NodeKind, Behaviour>> = {
  ...eventBehaviours,
  ...messageBehaviours,
  ...taskBehaviours,
  ...gatewayBehaviours,
  ...subProcessBehaviours,
};
