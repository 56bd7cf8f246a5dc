import { evaluateText } from '../expressions/evaluate.js';
import type { Behaviour, Behaviours } from './behaviour.js';

/** Subscribes to a message by name and correlation key; the key is evaluated now, once. */
const waitForMessage: Behaviour = {
  execute(run, token, node) {
    const message = node.message!;
    const key = evaluateText(message.correlationKey, run.variables, 'correlation key');
    if (!key.ok) {
      run.raiseIncident(
        token,
        'expression',
        `correlation key of ${node.id}: ${key.message}`,
        'execute',
      );
      return;
    }
    const ref = run.ref('s');
    run.emit({
      type: 'subscribe',
      subscriptionRef: ref,
      elementId: node.id,
      messageName: message.name,
      correlationKey: key.value,
    });
    run.wait(token, { k: 'message', ref });
  },
};

export const messageBehaviours = {
  receiveTask: waitForMessage,
  messageCatchEvent: waitForMessage,
} satisfies Behaviours;
