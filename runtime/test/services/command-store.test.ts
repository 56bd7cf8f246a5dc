/** The lean command path on its own: batch isolation and the optimistic lock, per database. */
import { describe, expect, it } from 'vitest';
import {
  createCommandStore,
  emptyChange,
  type InstanceChange,
  type InstanceRecord,
} from '../../src/store/commands/index.js';
import { knexOf } from '../../src/store/orm.js';
import { uuidv7 } from '../../src/store/ids.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { bpmnFixture } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`command store on ${database.kind}`, () => {
    const runtime = useRuntime(database);

    const fresh = async (): Promise<InstanceRecord> => {
      const { services } = runtime();
      const [definition] = await services.definitions.list(admin(), { key: 'simple-approval' });
      const definitionId =
        definition?.id ??
        (
          await services.definitions.deploy(admin(), {
            name: 'a',
            files: [{ filename: 'a.bpmn', xml: bpmnFixture('simple-approval.bpmn') }],
          })
        ).definitions[0]!.id;
      return {
        id: uuidv7(),
        tenantId: 'default',
        definitionId,
        businessKey: null,
        status: 'active',
        state: { status: 'active', variables: {} },
        version: 1,
        startedAt: new Date(),
        endedAt: null,
        hasIncident: false,
      };
    };

    const historyOf = (change: InstanceChange, event: string): InstanceChange => {
      change.history.push({
        tenantId: 'default',
        instanceId: change.instance.id,
        at: new Date(),
        event,
        elementId: null,
        elementType: null,
        data: null,
      });
      return change;
    };

    it('fails only the faulty change of a batch and applies the others', async () => {
      const store = createCommandStore(runtime().config.database, knexOf(runtime().orm));
      const [a, b, c] = [await fresh(), await fresh(), await fresh()];
      const faulty = emptyChange({ ...b, definitionId: 'no-such-definition' }, null);
      const outcomes = await store.commit([
        historyOf(emptyChange(a, null), 'processStarted'),
        faulty,
        historyOf(emptyChange(c, null), 'processStarted'),
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      expect(outcomes[1]).toMatchObject({ conflict: false });
      const loaded = await store.loadInstances([a.id, b.id, c.id]);
      expect([...loaded.keys()].sort()).toEqual([a.id, c.id].sort());
      const history = await knexOf(runtime().orm)('history_event').whereIn('instance_id', [
        a.id,
        c.id,
      ]);
      expect(history).toHaveLength(2);
    });

    it('writes nothing of a change that lost its optimistic lock', async () => {
      const store = createCommandStore(runtime().config.database, knexOf(runtime().orm));
      const record = await fresh();
      await store.commit([emptyChange(record, null)]);
      const winner = historyOf(
        emptyChange({ ...record, version: 2, status: 'completed' }, 1),
        'processCompleted',
      );
      const loser = historyOf(
        emptyChange({ ...record, version: 2, status: 'terminated' }, 1),
        'processTerminated',
      );
      expect((await store.commit([winner])).map((o) => o.ok)).toEqual([true]);
      expect(await store.commit([loser])).toEqual([{ ok: false, conflict: true }]);
      expect((await store.loadInstances([record.id])).get(record.id)).toMatchObject({
        version: 2,
        status: 'completed',
      });
      const events = await knexOf(runtime().orm)('history_event')
        .where({ instance_id: record.id })
        .pluck('event');
      expect(events).toEqual(['processCompleted']);
    });
  });
}
