import { describe, expect, it } from 'vitest';
import { OutboxSchema } from '../../src/store/entities/outbox.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';
import { eventually } from '../support/wait.js';

const actor = admin();

const pause = diagram(
  'pause',
  `<bpmn:startEvent id="start" />
   <bpmn:intermediateCatchEvent id="wait">
     <bpmn:timerEventDefinition><bpmn:timeDuration>PT0S</bpmn:timeDuration></bpmn:timerEventDefinition>
   </bpmn:intermediateCatchEvent>
   <bpmn:endEvent id="end" />
   ${flows('start>wait', 'wait>end')}`,
);

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`outbox dispatcher on ${database.kind}`, () => {
    const runtime = useRuntime(
      database,
      { scheduler: { processEveryMs: 200, outboxPollMs: 200 } },
      true,
    );

    // Intake entries wait for the case opener; the engine-effect dispatcher must leave them alone.
    it('drains engine effects and leaves intake entries pending', async () => {
      const { services, orm } = runtime();
      const em = orm.em.fork();
      const tenant = await em.findOneOrFail('Tenant', { id: actor.tenantId }, { filters: false });
      const intake = em.create(OutboxSchema, {
        tenant: tenant as never,
        instanceId: null,
        kind: 'intake',
        payload: { messageId: 'm-1' },
        idempotencyKey: `intake:test:${Date.now()}`,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: new Date(0),
        lockedUntil: null,
        lastError: null,
        createdAt: new Date(),
        doneAt: null,
      });
      await em.flush();

      await services.definitions.deploy(actor, {
        name: 'p',
        files: [{ filename: 'p.bpmn', xml: pause }],
      });
      const instance = await services.instances.start(actor, { definitionKey: 'pause' });
      await eventually('the timer effect to be dispatched and fire', async () => {
        const detail = await services.instances.get(actor, instance.id);
        return detail.status === 'completed';
      });

      const after = await orm.em
        .fork()
        .findOneOrFail(OutboxSchema, { id: intake.id }, { filters: false });
      expect(after.status).toBe('pending');
      expect(after.attempts).toBe(0);
    });
  });
}
