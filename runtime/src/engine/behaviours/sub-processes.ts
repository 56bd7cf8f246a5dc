import type { Behaviours } from './behaviour.js';

export const subProcessBehaviours = {
  /** The token waits on the sub-process while a token of its own scope runs inside. */
  subProcess: {
    execute(run, token, node) {
      const owner = run.wait(token, { k: 'scope' });
      run.schedule('enter', run.createToken(owner.id, node.startEventId!, null));
    },
  },
} satisfies Behaviours;
