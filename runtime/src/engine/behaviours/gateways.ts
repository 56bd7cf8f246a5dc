import type { Token } from '../execution/state.js';
import type { Behaviour, Behaviours } from './behaviour.js';

/** Fires once a token has arrived on every incoming flow (one per flow; extras wait for the next round). */
const parallelGateway: Behaviour = {
  execute(run, token, node) {
    if (node.incomingCount <= 1) {
      run.leave(token);
      return;
    }
    const arrived = run.wait(token, { k: 'join' });
    const byFlow = new Map<string | null, Token>();
    for (const waiting of run.tokensIn(arrived.scope)) {
      if (waiting.el === node.id && waiting.wait?.k === 'join' && !byFlow.has(waiting.via))
        byFlow.set(waiting.via, waiting);
    }
    if (byFlow.size === node.incomingCount) run.mergeJoin(arrived, [...byFlow.values()]);
  },
};

/** An inclusive join only parks the token: the run releases it once nothing else can arrive. */
const inclusiveGateway: Behaviour = {
  execute(run, token, node) {
    if (node.incomingCount <= 1) run.leave(token);
    else run.wait(token, { k: 'join' });
  },
};

export const gatewayBehaviours = {
  exclusiveGateway: { execute: (run, token) => run.leave(token) },
  parallelGateway,
  inclusiveGateway,
} satisfies Behaviours;
