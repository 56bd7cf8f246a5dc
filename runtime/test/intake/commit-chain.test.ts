/** The commit stage of a folder sync: order, the bound on batches held, and stopping at a failure. */
import { describe, expect, it } from 'vitest';
import { CommitChain } from '../../src/intake/commit-chain.js';

/** A commit the test finishes by hand. */
function gate(): { promise: Promise<void>; open(): void; fail(error: Error): void } {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CommitChain', () => {
  it('runs commits one at a time, in the order they were added', async () => {
    const chain = new CommitChain(10);
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    gates.forEach((g, index) =>
      chain.add(async () => {
        started.push(index);
        await g.promise;
      }),
    );
    await tick();
    expect(started).toEqual([0]);
    gates[1]!.open(); // finishing a later commit first does not let it overtake
    await tick();
    expect(started).toEqual([0]);
    gates[0]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[2]!.open();
    await chain.drained();
  });

  it('holds the fetch of another batch until one commits when the limit is reached', async () => {
    const chain = new CommitChain(2);
    const first = gate();
    chain.add(() => first.promise);
    await chain.room(); // one held: room for another
    chain.add(async () => undefined);
    let roomMade = false;
    const waiting = chain.room().then(() => (roomMade = true));
    await tick();
    expect(roomMade).toBe(false);
    first.open();
    await waiting;
    expect(roomMade).toBe(true);
    await chain.drained();
  });

  it('stops at a failed commit: later ones never run and the waiters see the error', async () => {
    const chain = new CommitChain(3);
    const first = gate();
    const ran: string[] = [];
    chain.add(async () => {
      ran.push('first');
      await first.promise;
    });
    chain.add(async () => {
      ran.push('second');
    });
    first.fail(new Error('disk full'));
    await expect(chain.drained()).rejects.toThrow('disk full');
    await expect(chain.room()).rejects.toThrow('disk full');
    expect(ran).toEqual(['first']);
  });
});
