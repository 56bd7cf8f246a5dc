import type { FlowNode, SequenceFlow } from '../model/graph.js';
import type { Effect, Variables } from '../types.js';

export type IncidentType = Extract<Effect, { type: 'incident' }>['incidentType'];

export type FlowSelection =
  { ok: true; flows: readonly SequenceFlow[] } | { ok: false; type: IncidentType; message: string };

/**
 * The flows a token takes when it leaves `node`: all of them for a parallel gateway; the first
 * true one for an exclusive gateway; every true one otherwise (inclusive gateways, conditional
 * flows out of activities); the default flow when none is true. No flow at all is an implicit end.
 */
export function selectFlows(node: FlowNode, variables: Variables): FlowSelection {
  const exclusive = node.kind === 'exclusiveGateway';
  const unconditional = node.outgoing.every(
    (flow) => flow.condition === null && flow.id !== node.defaultFlowId,
  );
  if (node.kind === 'parallelGateway' || (unconditional && !exclusive)) {
    return { ok: true, flows: node.outgoing };
  }
  const taken: SequenceFlow[] = [];
  let defaultFlow: SequenceFlow | undefined;
  for (const flow of node.outgoing) {
    if (flow.id === node.defaultFlowId) {
      defaultFlow = flow;
      continue;
    }
    const outcome = isTrue(flow, variables);
    if (!outcome.ok) return outcome;
    if (outcome.taken) taken.push(flow);
    if (outcome.taken && exclusive) break;
  }
  if (taken.length > 0) return { ok: true, flows: taken };
  if (defaultFlow !== undefined) return { ok: true, flows: [defaultFlow] };
  return {
    ok: false,
    type: 'condition',
    message: `no outgoing flow of ${node.id} has a true condition and there is no default flow`,
  };
}

function isTrue(
  flow: SequenceFlow,
  variables: Variables,
): { ok: true; taken: boolean } | { ok: false; type: IncidentType; message: string } {
  if (flow.condition === null) return { ok: true, taken: true };
  const outcome = flow.condition.evaluate(variables);
  if (!outcome.ok) {
    return {
      ok: false,
      type: 'expression',
      message: `condition of ${flow.id}: ${outcome.message}`,
    };
  }
  if (typeof outcome.value !== 'boolean') {
    const got = JSON.stringify(outcome.value);
    return {
      ok: false,
      type: 'expression',
      message: `condition of ${flow.id} must be true or false, got ${got}`,
    };
  }
  return { ok: true, taken: outcome.value };
}
