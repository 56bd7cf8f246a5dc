/**
 * Messages published with a time to live before any instance waits for them: kept, delivered
 * once to the first instance that waits (oldest message first), dropped once expired, and
 * finished by the sweep job when a crash interrupted their delivery.
 */
import { describe, expect, it } from 'vitest';
import { createServices } from '../../src/services/index.js';
import { CLAIM_ABANDONED_MS } from '../../src/services/message-buffer.js';
import { knexOf } from '../../src/store/orm.js';
import { ensureTenant } from '../../src/store/tenants.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';

const actor = admin();
const HOUR = 3_600_000;

const awaitingTwo = diagram(
  'await-two',
  `<bpmn:startEvent id="start" />
   <bpmn:receiveTask id="first-receipt" messageRef="msg-receipt" pectrack:correlationKey="=key" />
   <bpmn:userTask id="read-first" />
   <bpmn:receiveTask id="second-receipt" messageRef="msg-receipt" pectrack:correlationKey="=key" />
   <bpmn:userTask id="read-second" />
   <bpmn:endEvent id="end" />
   ${flows(
     'start>first-receipt',
     'first-receipt>read-first',
     'read-first>second-receipt',
     'second-receipt>read-second',
     'read-second>end',
   )}`,
  '<bpmn:message id="msg-receipt" name="test.receipt" />',
);

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`buffered messages on ${database.kind}`, () => {
    const runtime = useRuntime(database);
    let deployed = false;
    let keys = 0;

    const setup = async () => {
      const { services } = runtime();
      if (!deployed) {
        await services.definitions.deploy(actor, {
          name: 'await-two',
          files: [{ filename: 'two.bpmn', xml: awaitingTwo }],
        });
        deployed = true;
      }
      return { services, key: `K-${++keys}` };
    };
    const publish = (key: string | null, n: number, timeToLiveMs?: number, tenant = actor) =>
      runtime().services.messages.correlate(tenant, {
        name: 'test.receipt',
        correlationKey: key,
        variables: { n },
        ...(timeToLiveMs === undefined ? {} : { timeToLiveMs }),
      });
    const start = (key: string) =>
      runtime().services.instances.start(actor, {
        definitionKey: 'await-two',
        variables: { key },
      });
    /** The element the instance's open task is on, and the variable `n` it read. */
    const position = async (instanceId: string) => {
      const { services } = runtime();
      const [task] = await services.tasks.list(actor, { instanceId, status: 'open' });
      const { variables } = await services.instances.get(actor, instanceId);
      return { at: task?.elementId ?? null, n: variables.n ?? null };
    };
    const completeOpenTask = async (instanceId: string) => {
      const { services } = runtime();
      const [task] = await services.tasks.list(actor, { instanceId, status: 'open' });
      await services.tasks.complete(actor, task!.id);
    };
    const kept = async () =>
      Number((await knexOf(runtime().orm)('buffered_message').count({ c: '*' }))[0]!.c);

    it('keeps a message nobody waits for and hands it to the first instance that waits, oldest first', async () => {
      const { key } = await setup();
      expect(await publish(key, 1, HOUR)).toEqual({ matched: 0, instanceIds: [], buffered: true });
      expect(await publish(key, 2, HOUR)).toMatchObject({ buffered: true });

      const instance = await start(key);
      expect(await position(instance.id)).toEqual({ at: 'read-first', n: 1 });
      await completeOpenTask(instance.id);
      expect(await position(instance.id)).toEqual({ at: 'read-second', n: 2 });

      // Each message went once: another instance on the key waits.
      const other = await start(key);
      expect(await position(other.id)).toEqual({ at: null, n: null });
    });

    it('without a time to live a message nobody waits for is dropped', async () => {
      const { key } = await setup();
      expect(await publish(key, 1)).toEqual({ matched: 0, instanceIds: [], buffered: false });
      const instance = await start(key);
      expect(await position(instance.id)).toEqual({ at: null, n: null });
    });

    it('a message published while an instance waits goes to it, not to the buffer', async () => {
      const { key } = await setup();
      const instance = await start(key);
      expect(await publish(key, 5, HOUR)).toEqual({
        matched: 1,
        instanceIds: [instance.id],
        buffered: false,
      });
      expect(await position(instance.id)).toEqual({ at: 'read-first', n: 5 });
    });

    it('an expired message is not delivered, and the sweep deletes it', async () => {
      const { key } = await setup();
      const before = await kept();
      await publish(key, 1, HOUR);
      const later = createServices({
        orm: runtime().orm,
        database: runtime().config.database,
        now: () => new Date(Date.now() + HOUR + 1_000),
      });
      const instance = await later.services.instances.start(actor, {
        definitionKey: 'await-two',
        variables: { key },
      });
      expect(await position(instance.id)).toEqual({ at: null, n: null });
      expect(await kept()).toBe(before + 1);
      await later.internal.redeliverBufferedMessages();
      expect(await kept()).toBe(0);
    });

    it('a message without a correlation key goes to a wait on any key; a keyed one only to its key', async () => {
      const { key, services } = await setup();
      // A message without a key reaches every waiting instance: earlier tests' ones go first.
      for (const waiting of await services.instances.list(actor, { status: 'active' }))
        await services.instances.cancel(actor, waiting.id, 'earlier test');
      await publish(`${key}-other`, 1, HOUR);
      expect(await publish(null, 2, HOUR)).toMatchObject({ buffered: true });
      const instance = await start(key);
      expect(await position(instance.id)).toEqual({ at: 'read-first', n: 2 });
      await completeOpenTask(instance.id);
      expect(await position(instance.id)).toEqual({ at: null, n: 2 });
      await knexOf(runtime().orm)('buffered_message').del();
    });

    it("is not delivered to another tenant's instance", async () => {
      const { key } = await setup();
      await ensureTenant(runtime().orm, 'elsewhere');
      await runtime().services.definitions.deploy(admin('elsewhere'), {
        name: 'await-two',
        files: [{ filename: 'two.bpmn', xml: awaitingTwo }],
      });
      await publish(key, 1, HOUR, admin('elsewhere'));
      const instance = await start(key);
      expect(await position(instance.id)).toEqual({ at: null, n: null });
      await knexOf(runtime().orm)('buffered_message').del();
    });

    it('hands each message to exactly one of many instances starting at once', async () => {
      const { key } = await setup();
      for (let n = 1; n <= 5; n++) await publish(key, n, HOUR);
      const instances = await Promise.all(Array.from({ length: 8 }, () => start(key)));
      const got = await Promise.all(instances.map((i) => position(i.id)));
      const received = got.filter((p) => p.at === 'read-first').map((p) => p.n);
      expect(received.sort()).toEqual([1, 2, 3, 4, 5]);
      expect(got.filter((p) => p.at === null)).toHaveLength(3);
      expect(await kept()).toBe(0);
    });

    it('hands each of many messages published at once to one waiting instance', async () => {
      const { key } = await setup();
      const instances = await Promise.all(Array.from({ length: 3 }, () => start(key)));
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => publish(key, i + 1, HOUR)),
      );
      // Three instances waited: the first publish took all three (correlation is a broadcast).
      const got = await Promise.all(instances.map((i) => position(i.id)));
      expect(got.every((p) => p.at === 'read-first')).toBe(true);
      expect(results.filter((r) => r.buffered)).toHaveLength(
        results.filter((r) => r.matched === 0).length,
      );
      await knexOf(runtime().orm)('buffered_message').del();
    });

    it('a wait still commits when its kept messages cannot be read: logged, and delivered by the sweep', async () => {
      const { key } = await setup();
      await publish(key, 4, HOUR);
      const warnings: string[] = [];
      const logged = createServices({
        orm: runtime().orm,
        database: runtime().config.database,
        log: { warn: (_data, message) => warnings.push(message) },
      });
      const knex = knexOf(runtime().orm);
      await knex.schema.renameTable('buffered_message', 'buffered_message_away');
      let instance;
      try {
        instance = await logged.services.instances.start(actor, {
          definitionKey: 'await-two',
          variables: { key },
        });
      } finally {
        await knex.schema.renameTable('buffered_message_away', 'buffered_message');
      }
      expect(instance.status).toBe('active');
      expect(warnings).toEqual([expect.stringContaining('handing kept messages')]);
      expect(await position(instance.id)).toEqual({ at: null, n: null });
      await runtime().internal.redeliverBufferedMessages();
      expect(await position(instance.id)).toEqual({ at: 'read-first', n: 4 });
    });

    it('the sweep finishes a delivery a crash interrupted, and drops a claim whose wait is gone', async () => {
      const { key } = await setup();
      const knex = knexOf(runtime().orm);
      const platform = runtime().orm.em.getPlatform();
      const instance = await start(key);
      const [wait] = await knex('subscription').where({ instance_id: instance.id }).select('id');
      const longAgo = new Date(Date.now() - CLAIM_ABANDONED_MS - 1_000);
      const row = (claimedBy: string | null, n: number) => ({
        tenant_id: 'default',
        name: 'test.receipt',
        correlation_key: key,
        variables: JSON.stringify({ n }),
        created_at: platform.processDateProperty(longAgo),
        expires_at: platform.processDateProperty(new Date(Date.now() + HOUR)),
        claimed_by: claimedBy,
        claimed_at: claimedBy ? platform.processDateProperty(longAgo) : null,
      });
      // Claimed for the instance's wait, then the process died before the trigger.
      await knex('buffered_message').insert(row(wait.id, 7));
      // Claimed for a wait that no longer exists: it may have been delivered; it is dropped.
      await knex('buffered_message').insert(row('gone:w', 8));

      expect(await runtime().internal.redeliverBufferedMessages()).toBe(1);
      expect(await position(instance.id)).toEqual({ at: 'read-first', n: 7 });
      expect(await kept()).toBe(0);

      // Kept while the wait was being committed, and the process died before it looked.
      await completeOpenTask(instance.id);
      await knex('buffered_message').insert(row(null, 9));
      expect(await runtime().internal.redeliverBufferedMessages()).toBe(1);
      expect(await position(instance.id)).toEqual({ at: 'read-second', n: 9 });
      expect(await kept()).toBe(0);
    });
  });
}
