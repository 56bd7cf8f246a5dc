/**
 * A runtime process killed with SIGKILL while instances wait on user tasks, timers and
 * connector calls, then restarted: nothing is lost, every timer fires once, and outbox
 * entries committed before the crash are delivered once.
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import type { TaskInfo } from '../../src/services/types.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { startReceiver } from '../support/connector-receiver.js';
import { CRASH_INSTANCES } from '../support/crash-diagrams.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';
import { startWorker } from '../support/worker-process.js';

const actor = admin();

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`crash recovery on ${database.kind}`, () => {
    it('keeps tasks, fires every timer once and delivers committed outbox entries once across SIGKILLs', async () => {
      const created = await database.create();
      const receiver = await startReceiver();
      let observer: Runtime | undefined;
      try {
        const seeded = await startWorker(created.config, 'seed', receiver.url);
        await seeded.kill();

        observer = await createRuntime(created.config);
        const { services } = observer;
        const openTasks = (elementId: string) => openTasksAt(observer!, elementId);
        expect(await openTasks('work')).toHaveLength(CRASH_INSTANCES);
        expect(
          await services.instances.list(actor, { status: 'active', limit: 1000 }),
        ).toHaveLength(3 * CRASH_INSTANCES);
        expect(await pendingOutbox(observer, 'invokeConnector')).toBeGreaterThan(0);

        receiver.up = true;
        const first = await startWorker(created.config, 'resume', receiver.url);
        await eventually(
          'every connector call to come back',
          async () => (await openTasks('after-call')).length === CRASH_INSTANCES,
          45_000,
        );
        await eventually(
          'a first timer to fire',
          async () => (await openTasks('after-timer')).length > 0,
          45_000,
        );
        await first.kill();

        const second = await startWorker(created.config, 'resume', receiver.url);
        try {
          await eventually(
            'every timer to fire',
            async () => (await openTasks('after-timer')).length === CRASH_INSTANCES,
            45_000,
          );

          expect(await openTasks('work')).toHaveLength(CRASH_INSTANCES);
          expect(await firingsPerInstance(observer, 'wait')).toEqual(
            Array(CRASH_INSTANCES).fill(1),
          );
          expect(await firingsPerInstance(observer, 'call')).toEqual(
            Array(CRASH_INSTANCES).fill(1),
          );
          expect(receiver.delivered.size).toBe(CRASH_INSTANCES);
          expect([...receiver.delivered.values()]).toEqual(Array(CRASH_INSTANCES).fill(1));
          expect(await pendingOutbox(observer, 'invokeConnector')).toBe(0);

          const tasks = await services.tasks.list(actor, { status: 'open', limit: 1000 });
          expect(tasks).toHaveLength(3 * CRASH_INSTANCES);
          await Promise.all(tasks.map((task) => services.tasks.complete(actor, task.id, {})));
          const active = await services.instances.list(actor, { status: 'active', limit: 1000 });
          const completed = await services.instances.list(actor, {
            status: 'completed',
            limit: 1000,
          });
          expect([active.length, completed.length]).toEqual([0, 3 * CRASH_INSTANCES]);
          const receipts = completed
            .filter((i) => i.definitionKey === 'crash-connector')
            .map((i) => i.variables.receipt);
          expect(receipts.sort()).toEqual(
            completed
              .filter((i) => i.definitionKey === 'crash-connector')
              .map((i) => `ok-${i.businessKey}`)
              .sort(),
          );
        } finally {
          await second.kill();
        }
      } finally {
        await observer?.stop();
        await receiver.close();
        await created.drop();
      }
    }, 180_000);
  });
}

async function openTasksAt(runtime: Runtime, elementId: string): Promise<TaskInfo[]> {
  const tasks = await runtime.services.tasks.list(actor, { status: 'open', limit: 1000 });
  return tasks.filter((t) => t.elementId === elementId);
}

/** How many times each instance's `elementId` completed, from the history rows. */
async function firingsPerInstance(runtime: Runtime, elementId: string): Promise<number[]> {
  const rows = (await knexOf(runtime.orm)('history_event')
    .select('instance_id')
    .count({ n: '*' })
    .where({ element_id: elementId, event: 'elementCompleted' })
    .groupBy('instance_id')) as { n: number | string }[];
  return rows.length === CRASH_INSTANCES
    ? rows.map((r) => Number(r.n))
    : [...rows.map((r) => Number(r.n)), -1];
}

async function pendingOutbox(runtime: Runtime, kind: string): Promise<number> {
  const [row] = (await knexOf(runtime.orm)('outbox')
    .count({ n: '*' })
    .where({ kind })
    .whereNot({ status: 'done' })) as {
    n: number | string;
  }[];
  return Number(row!.n);
}
