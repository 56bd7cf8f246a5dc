import type { FlowNode } from './graph.js';

/**
 * For every node, the inclusive joins a token there may still reach, following sequence flows
 * and the boundary events of the node. Computed once at compile time so that deciding whether
 * an inclusive join may fire is a set lookup per waiting token.
 */
export function reachableJoins(
  nodes: ReadonlyMap<string, Omit<FlowNode, 'reachableJoins'>>,
): Map<string, Set<string>> {
  const joins = new Set(
    [...nodes.values()]
      .filter((node) => node.kind === 'inclusiveGateway' && node.incomingCount > 1)
      .map((node) => node.id),
  );
  const result = new Map<string, Set<string>>();
  for (const id of nodes.keys())
    result.set(id, joins.size === 0 ? new Set() : walk(id, nodes, joins));
  return result;
}

function walk(
  startId: string,
  nodes: ReadonlyMap<string, Omit<FlowNode, 'reachableJoins'>>,
  joins: ReadonlySet<string>,
): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>();
  const pending = successors(nodes.get(startId)!, nodes);
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (joins.has(id)) found.add(id);
    const node = nodes.get(id);
    if (node !== undefined) pending.push(...successors(node, nodes));
  }
  return found;
}

function successors(
  node: Omit<FlowNode, 'reachableJoins'>,
  nodes: ReadonlyMap<string, Omit<FlowNode, 'reachableJoins'>>,
): string[] {
  const targets = node.outgoing.map((flow) => flow.target);
  for (const boundaryId of node.boundaryTimerIds) {
    targets.push(...(nodes.get(boundaryId)?.outgoing.map((flow) => flow.target) ?? []));
  }
  return targets;
}
