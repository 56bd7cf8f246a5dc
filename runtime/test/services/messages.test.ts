import { describe, expect, it } from 'vitest';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';

const actor = admin();

const awaitingReply = diagram(
  'await-reply',
  `<bpmn:startEvent id="start" />
   <bpmn:receiveTask id="wait-reply" messageRef="msg-reply" pectrack:correlationKey="=caseNumber" />
   <bpmn:userTask id="read-reply" />
   <bpmn:endEvent id="end" />
   ${flows('start>wait-reply', 'wait-reply>read-reply', 'read-reply>end')}`,
  '<bpmn:message id="msg-reply" name="pec.reply" />',
);

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`message correlation on ${database.kind}`, () => {
    const runtime = useRuntime(database);

    it('delivers a message to the instance waiting on its name and correlation key only', async () => {
      const { services } = runtime();
      await services.definitions.deploy(actor, {
        name: 'reply',
        files: [{ filename: 'r.bpmn', xml: awaitingReply }],
      });
      const a = await services.instances.start(actor, {
        definitionKey: 'await-reply',
        variables: { caseNumber: 'A-1' },
      });
      const b = await services.instances.start(actor, {
        definitionKey: 'await-reply',
        variables: { caseNumber: 'B-2' },
      });

      const none = await services.messages.correlate(actor, {
        name: 'pec.reply',
        correlationKey: 'C-3',
      });
      expect(none).toEqual({ matched: 0, instanceIds: [], buffered: false });
      const other = await services.messages.correlate(actor, {
        name: 'pec.other',
        correlationKey: 'A-1',
      });
      expect(other.matched).toBe(0);

      const hit = await services.messages.correlate(actor, {
        name: 'pec.reply',
        correlationKey: 'A-1',
        variables: { replyText: 'ok' },
      });
      expect(hit).toEqual({ matched: 1, instanceIds: [a.id], buffered: false });

      const [taskA] = await services.tasks.list(actor, { instanceId: a.id });
      expect(taskA).toMatchObject({ elementId: 'read-reply', status: 'open' });
      expect(await services.tasks.list(actor, { instanceId: b.id })).toEqual([]);
      expect((await services.instances.get(actor, a.id)).variables).toMatchObject({
        replyText: 'ok',
      });

      const again = await services.messages.correlate(actor, {
        name: 'pec.reply',
        correlationKey: 'A-1',
      });
      expect(again.matched).toBe(0);
      await services.tasks.complete(actor, taskA!.id);
      expect((await services.instances.get(actor, a.id)).status).toBe('completed');
    });

    it('does not deliver to another tenant', async () => {
      const { services } = runtime();
      const waiting = await services.instances.start(actor, {
        definitionKey: 'await-reply',
        variables: { caseNumber: 'T-9' },
      });
      const foreign = await services.messages.correlate(admin('elsewhere'), {
        name: 'pec.reply',
        correlationKey: 'T-9',
      });
      expect(foreign.matched).toBe(0);
      expect(
        (await services.messages.correlate(actor, { name: 'pec.reply', correlationKey: 'T-9' }))
          .instanceIds,
      ).toEqual([waiting.id]);
    });
  });
}
