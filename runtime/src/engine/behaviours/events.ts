import type { Behaviour, Behaviours } from './behaviour.js';

const passThrough: Behaviour = { execute: (run, token) => run.leave(token) };

/** Waits for a timer: a duration from now, a date, or the first firing of a cycle. */
const timerCatch: Behaviour = {
  execute(run, token, node) {
    const planned = run.planTimer(node.timer!);
    if (!planned.ok) {
      run.raiseIncident(token, 'expression', `timer of ${node.id}: ${planned.message}`, 'execute');
      return;
    }
    const ref = run.ref('tm');
    run.emit({
      type: 'scheduleTimer',
      timerRef: ref,
      elementId: node.id,
      dueAt: planned.firing.dueAt,
    });
    run.wait(token, { k: 'timer', ref });
  },
};

export const eventBehaviours = {
  startEvent: passThrough,
  timerBoundaryEvent: passThrough,
  endEvent: {
    execute(run, token, node) {
      run.history('elementCompleted', node);
      run.consume(token);
    },
  },
  terminateEndEvent: {
    execute(run, token, node) {
      run.history('elementCompleted', node);
      run.terminateScope(token);
    },
  },
  timerCatchEvent: timerCatch,
} satisfies Behaviours;
