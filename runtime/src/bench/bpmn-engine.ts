/** The baseline: the same diagram on bpmn-engine, in memory, the user task signalled as soon as it waits. */
import { EventEmitter } from 'node:events';
import { Engine } from 'bpmn-engine';
import { BPMN_ENGINE_DIAGRAM } from './diagrams.js';

function oneInstance(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const engine = new Engine({
      name: `bench-${i}`,
      source: BPMN_ENGINE_DIAGRAM,
      variables: { approved: i % 2 === 0 },
    });
    const listener = new EventEmitter();
    listener.on('wait', (task: { signal: (message?: unknown) => void }) =>
      task.signal({ approved: i % 2 === 0 }),
    );
    engine.once('end', () => resolve());
    engine.once('error', reject);
    engine.execute({ listener }).catch(reject);
  });
}

export async function runBpmnEngine(count: number, concurrency: number): Promise<number> {
  await inLanes(Math.ceil(count / 10), concurrency, oneInstance);
  const started = performance.now();
  await inLanes(count, concurrency, oneInstance);
  return count / ((performance.now() - started) / 1000);
}

/** `count` jobs, `concurrency` at a time. */
export async function inLanes(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}
