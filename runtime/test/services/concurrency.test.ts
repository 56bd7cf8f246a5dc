import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { bpmnFixture } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';

const actor = admin();

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`concurrent commands on ${database.kind}`, () => {
    const runtime = useRuntime(database);

    it('lets exactly one of two concurrent completions of the same task win; the other gets 409', async () => {
      const { services } = runtime();
      await services.definitions.deploy(actor, {
        name: 'approval',
        files: [{ filename: 'simple-approval.bpmn', xml: bpmnFixture('simple-approval.bpmn') }],
      });
      for (let round = 0; round < 5; round++) {
        const instance = await services.instances.start(actor, {
          definitionKey: 'simple-approval',
        });
        const [task] = await services.tasks.list(actor, { instanceId: instance.id });
        const results = await Promise.allSettled([
          services.tasks.complete(actor, task!.id, { approved: true }),
          services.tasks.complete(actor, task!.id, { approved: false }),
        ]);
        const winners = results.filter((r) => r.status === 'fulfilled');
        const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(1);
        expect(losers[0]!.reason).toBeInstanceOf(ConflictError);
        expect((losers[0]!.reason as ConflictError).status).toBe(409);

        const detail = await services.instances.get(actor, instance.id);
        expect(detail.status).toBe('completed');
        const ends = detail.history.filter(
          (h) => h.event === 'elementCompleted' && ['approved', 'rejected'].includes(h.elementId!),
        );
        expect(ends).toHaveLength(1);
        const winner = results[0]!.status === 'fulfilled' ? 'approved' : 'rejected';
        expect(ends[0]!.elementId).toBe(winner);
      }
    });

    it('commits a burst of concurrent starts and completions, each exactly once', async () => {
      const { services } = runtime();
      const started = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          services.instances.start(actor, {
            definitionKey: 'simple-approval',
            businessKey: `burst-${i}`,
          }),
        ),
      );
      expect(new Set(started.map((s) => s.id)).size).toBe(60);
      const tasks = await Promise.all(
        started.map((s) => services.tasks.list(actor, { instanceId: s.id })),
      );
      await Promise.all(
        tasks.map(([task], i) =>
          services.tasks.complete(actor, task!.id, { approved: i % 2 === 0 }),
        ),
      );
      const ended = await services.instances.list(actor, {
        definitionKey: 'simple-approval',
        status: 'completed',
        limit: 500,
      });
      const burst = ended.filter((i) => i.businessKey?.startsWith('burst-'));
      expect(burst).toHaveLength(60);
      expect(burst.filter((i) => i.variables.approved === true)).toHaveLength(30);
    });
  });
}
