import type { Run } from '../execution/run.js';
import type { Token } from '../execution/state.js';
import type { FlowNode, NodeKind } from '../model/graph.js';

/** What an element does when a token reaches it: leave at once, wait, or end the token. */
export interface Behaviour {
  execute(run: Run, token: Token, node: FlowNode): void;
}

export type Behaviours = Partial<Record<NodeKind, Behaviour>>;
