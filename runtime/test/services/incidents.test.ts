import { describe, expect, it } from 'vitest';
import { ConnectorError } from '@pectrack/connector-sdk';
import { CONNECTOR_JOB } from '../../src/scheduler/index.js';
import { sweep } from '../../src/scheduler/housekeeping.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';
import { eventually } from '../support/wait.js';

const actor = admin();

const routing = diagram(
  'routing',
  `<bpmn:startEvent id="start" />
   <bpmn:exclusiveGateway id="route" />
   <bpmn:endEvent id="urgent" />
   <bpmn:endEvent id="normal" />
   <bpmn:sequenceFlow id="to-urgent" sourceRef="route" targetRef="urgent"><bpmn:conditionExpression>=priority = "high"</bpmn:conditionExpression></bpmn:sequenceFlow>
   <bpmn:sequenceFlow id="to-normal" sourceRef="route" targetRef="normal"><bpmn:conditionExpression>=priority = "low"</bpmn:conditionExpression></bpmn:sequenceFlow>
   ${flows('start>route')}`,
);

/** A process whose service task calls connector `type`. */
const notifyingThrough = (processId: string, type: string) =>
  diagram(
    processId,
    `<bpmn:startEvent id="start" />
   <bpmn:serviceTask id="notify">
     <bpmn:extensionElements>
       <pectrack:connector type="${type}">
         <pectrack:input source="=recipient" target="to" />
         <pectrack:output source="=receipt" target="receipt" />
       </pectrack:connector>
     </bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:endEvent id="end" />
   ${flows('start>notify', 'notify>end')}`,
  );
const notifying = notifyingThrough('notifying', 'flaky');

/** A connector that fails while `failing` is set, and counts every call. */
const flaky = { failing: true, calls: [] as { key: string; to: unknown }[] };

/** The same task on a connector whose far side asks to be called later, `deferrals` times. */
const pacedNotifying = notifyingThrough('paced-notifying', 'paced');
const paced = { deferrals: 0, calls: [] as string[] };

/** A far side that fails and asks to be called later by turns, for ever. */
const erraticNotifying = notifyingThrough('erratic-notifying', 'erratic');
const erratic = { calls: 0 };

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`incidents on ${database.kind}`, () => {
    const runtime = useRuntime(
      database,
      {
        connectors: {
          flaky: async (input, context) => {
            flaky.calls.push({ key: context.idempotencyKey, to: input.to });
            if (flaky.failing) throw new Error('SMTP 421 try again later');
            return { receipt: `r-${input.to}` };
          },
          erratic: async () => {
            erratic.calls++;
            if (erratic.calls % 2 === 0)
              throw new ConnectorError('BUSY', 'six messages a minute', { retryAfterMs: 20 });
            throw new Error('SMTP 554 transaction failed');
          },
          paced: async (input, context) => {
            paced.calls.push(context.idempotencyKey);
            if (paced.calls.length <= paced.deferrals)
              throw new ConnectorError('BUSY', 'six messages a minute', { retryAfterMs: 20 });
            return { receipt: `r-${input.to}` };
          },
        },
        scheduler: {
          processEveryMs: 200,
          connectorAttempts: 3,
          connectorBackoffMs: 50,
          outboxPollMs: 200,
        },
      },
      true,
    );

    it('raises an incident when no gateway flow matches; retry with the fixed variable goes on', async () => {
      const { services } = runtime();
      await services.definitions.deploy(actor, {
        name: 'routing',
        files: [{ filename: 'r.bpmn', xml: routing }],
      });
      const instance = await services.instances.start(actor, {
        definitionKey: 'routing',
        variables: { priority: 'medium' },
      });
      expect(instance).toMatchObject({ status: 'active', hasIncident: true });
      const [incident] = await services.incidents.list(actor, {
        instanceId: instance.id,
        status: 'open',
      });
      expect(incident).toMatchObject({ elementId: 'route', type: 'condition', status: 'open' });

      await services.incidents.retry(actor, incident!.id, { priority: 'high' });

      const after = await services.instances.get(actor, instance.id);
      expect(after).toMatchObject({ status: 'completed', hasIncident: false });
      expect(after.incidents).toEqual([
        expect.objectContaining({ id: incident!.id, status: 'resolved' }),
      ]);
      expect(
        after.history.some((h) => h.event === 'elementCompleted' && h.elementId === 'urgent'),
      ).toBe(true);
    });

    it('retries a failing connector with backoff, then raises an incident; retry re-invokes it', async () => {
      const { services } = runtime();
      flaky.failing = true;
      flaky.calls = [];
      await services.definitions.deploy(actor, {
        name: 'notifying',
        files: [{ filename: 'n.bpmn', xml: notifying }],
      });
      const instance = await services.instances.start(actor, {
        definitionKey: 'notifying',
        variables: { recipient: 'ufficio@pec.test' },
      });

      const [incident] = await eventually('the connector incident', async () => {
        const open = await services.incidents.list(actor, {
          instanceId: instance.id,
          status: 'open',
        });
        return open.length ? open : null;
      });
      expect(incident).toMatchObject({ elementId: 'notify', type: 'connector' });
      expect(incident!.message).toMatch(/SMTP 421/);
      expect(flaky.calls).toHaveLength(3);
      expect(new Set(flaky.calls.map((c) => c.key)).size).toBe(1);

      flaky.failing = false;
      await services.incidents.retry(actor, incident!.id);
      const done = await eventually('the instance to end', async () => {
        const detail = await services.instances.get(actor, instance.id);
        return detail.status === 'completed' ? detail : null;
      });
      expect(done.variables).toMatchObject({ receipt: 'r-ufficio@pec.test' });
      expect(done.hasIncident).toBe(false);
      expect(flaky.calls).toHaveLength(4);
      // The person's retry repeats the same call, under its key: a connector that did its side
      // effect after all (a certified send whose answer was lost) does not do it twice.
      expect(flaky.calls[3]!.key).toBe(flaky.calls[0]!.key);
    });

    it('calls a connector that asks to be called later again, as often as it asks, without an incident', async () => {
      const { services } = runtime();
      paced.deferrals = 5; // more than the 3 attempts a failing call gets
      paced.calls = [];
      await services.definitions.deploy(actor, {
        name: 'paced-notifying',
        files: [{ filename: 'p.bpmn', xml: pacedNotifying }],
      });
      const instance = await services.instances.start(actor, {
        definitionKey: 'paced-notifying',
        variables: { recipient: 'suap@pec.test' },
      });
      const done = await eventually('the instance to end', async () => {
        const detail = await services.instances.get(actor, instance.id);
        return detail.status === 'completed' ? detail : null;
      });
      expect(done).toMatchObject({ hasIncident: false, variables: { receipt: 'r-suap@pec.test' } });
      expect(done.incidents).toEqual([]);
      expect(paced.calls).toHaveLength(6);
      expect(new Set(paced.calls).size).toBe(1);
    });

    it('counts failures across deferrals: a connector failing and deferring by turns ends in an incident', async () => {
      const { services } = runtime();
      erratic.calls = 0;
      await services.definitions.deploy(actor, {
        name: 'erratic-notifying',
        files: [{ filename: 'e.bpmn', xml: erraticNotifying }],
      });
      const instance = await services.instances.start(actor, {
        definitionKey: 'erratic-notifying',
        variables: { recipient: 'urp@pec.test' },
      });
      const [incident] = await eventually('the connector incident', async () => {
        const open = await services.incidents.list(actor, {
          instanceId: instance.id,
          status: 'open',
        });
        return open.length ? open : null;
      });
      expect(incident!.message).toMatch(/after 3 attempts: .*SMTP 554/);
      // Three failures (the attempt budget), with a deferral between each two.
      expect(erratic.calls).toBe(5);
    });

    it('sweeps delivered outbox rows and finished connector jobs past retention, and nothing younger', async () => {
      const { orm } = runtime();
      const delivered = async () =>
        Number(
          (
            (await knexOf(orm)('outbox').where({ status: 'done' }).count({ n: '*' })) as {
              n: string;
            }[]
          )[0]!.n,
        );
      const connectorJobs = async () =>
        (await runtime().scheduler.agenda.queryJobs({ name: CONNECTOR_JOB })).total;
      expect(await delivered()).toBeGreaterThan(0);
      expect(await sweep(orm, new Date(Date.now() - 3_600_000))).toEqual({ outbox: 0, jobs: 0 });

      const jobsBefore = await connectorJobs();
      const swept = await sweep(orm, new Date(Date.now() + 60_000));
      expect(swept.outbox).toBeGreaterThan(0);
      expect(swept.jobs).toBe(jobsBefore);
      expect([await delivered(), await connectorJobs()]).toEqual([0, 0]);
    });
  });
}
