import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { builtinConnectors, installAll, registryEntries } from '../../src/connectors/index.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';
import { eventually } from '../support/wait.js';
import { startJsonService, type JsonService } from './support.js';

const actor = admin();

const filing = diagram(
  'filing',
  `<bpmn:startEvent id="start" />
   <bpmn:serviceTask id="file-case">
     <bpmn:extensionElements>
       <pectrack:connector type="pectrack:http">
         <pectrack:input source="=serviceUrl" target="url" />
         <pectrack:input source="={caseNumber: caseNumber}" target="body" />
         <pectrack:output source="=body.receipt" target="receipt" />
         <pectrack:output source="=status" target="httpStatus" />
       </pectrack:connector>
     </bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:endEvent id="end" />
   ${flows('start>file-case', 'file-case>end')}`,
);

let service: JsonService;
beforeAll(async () => {
  service = await startJsonService();
});
afterAll(() => service.close());

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`the pectrack:http connector on ${database.kind}`, () => {
    const runtime = useRuntime(
      database,
      {
        connectors: registryEntries(
          installAll(builtinConnectors(), { 'pectrack:http': { timeoutMs: 2_000 } }),
          pino({ level: 'silent' }),
        ),
        scheduler: {
          processEveryMs: 100,
          connectorAttempts: 3,
          connectorBackoffMs: 50,
          outboxPollMs: 100,
        },
      },
      true,
    );

    beforeAll(async () => {
      await runtime().services.definitions.deploy(actor, {
        name: 'filing',
        files: [{ filename: 'filing.bpmn', xml: filing }],
      });
    });

    const start = (caseNumber: string, serviceUrl = service.url) =>
      runtime().services.instances.start(actor, {
        definitionKey: 'filing',
        businessKey: caseNumber,
        variables: { caseNumber, serviceUrl },
      });

    const ended = (instanceId: string) =>
      eventually('the instance to complete', async () => {
        const detail = await runtime().services.instances.get(actor, instanceId);
        return detail.status === 'completed' ? detail : null;
      });

    const openIncident = (instanceId: string) =>
      eventually('an open incident', async () => {
        const [incident] = await runtime().services.incidents.list(actor, {
          instanceId,
          status: 'open',
        });
        return incident;
      });

    const requestsFor = (caseNumber: string) =>
      service.requests.filter(
        (r) => (r.body as { caseNumber?: string } | null)?.caseNumber === caseNumber,
      );

    it('posts the mapped input and maps the answer into variables', async () => {
      const instance = await start(`${database.kind}-ok`);
      const done = await ended(instance.id);
      expect(done.variables).toMatchObject({
        receipt: `ok-${database.kind}-ok`,
        httpStatus: 201,
      });
      const [request] = requestsFor(`${database.kind}-ok`);
      expect(request).toMatchObject({ method: 'POST', idempotencyKey: expect.any(String) });
    });

    it('raises an incident naming the field for invalid input, without calling anyone', async () => {
      const before = service.requests.length;
      const instance = await start(`${database.kind}-bad`, 'ftp://files.example/cases');
      const incident = await openIncident(instance.id);
      expect(incident).toMatchObject({ elementId: 'file-case', type: 'connector' });
      expect(incident.message).toMatch(/after 1 attempt: .*url: /);
      expect(service.requests.length).toBe(before);
    });

    it('calls a service that answered 429 with Retry-After again, as often as it asks, without an incident', async () => {
      const caseNumber = `${database.kind}-throttled`;
      service.throttled = 4; // more than the 3 attempts a failing call gets
      try {
        const done = await ended((await start(caseNumber)).id);
        expect(done.variables).toMatchObject({ receipt: `ok-${caseNumber}` });
        expect(done.incidents).toEqual([]);
        expect(requestsFor(caseNumber)).toHaveLength(5);
      } finally {
        service.throttled = 0;
      }
    });

    it('retries a 408 Request Timeout and a 425 Too Early, which the same request may get past', async () => {
      const caseNumber = `${database.kind}-timed-out`;
      service.refusals = [408, 425];
      try {
        const done = await ended((await start(caseNumber)).id);
        expect(done.variables).toMatchObject({ receipt: `ok-${caseNumber}` });
        expect(done.incidents).toEqual([]);
        expect(requestsFor(caseNumber)).toHaveLength(3);
      } finally {
        service.refusals = [];
      }
    });

    it('names the status alone when the answer has no body', async () => {
      const caseNumber = `${database.kind}-gone`;
      service.refusals = [410];
      try {
        const incident = await openIncident((await start(caseNumber)).id);
        expect(incident.message).toMatch(/after 1 attempt: POST \S+ answered 410$/);
      } finally {
        service.refusals = [];
      }
    });

    it('retries a 500, then raises an incident; retrying after the service recovers completes', async () => {
      const caseNumber = `${database.kind}-flaky`;
      service.failing = true;
      try {
        const instance = await start(caseNumber);
        const incident = await openIncident(instance.id);
        expect(incident.message).toMatch(/after 3 attempts: POST .* answered 500: database down/);
        expect(requestsFor(caseNumber)).toHaveLength(3);
        expect(new Set(requestsFor(caseNumber).map((r) => r.idempotencyKey)).size).toBe(1);

        service.failing = false;
        await runtime().services.incidents.retry(actor, incident.id);
        const done = await ended(instance.id);
        expect(done.variables).toMatchObject({ receipt: `ok-${caseNumber}` });
        expect(done.hasIncident).toBe(false);
      } finally {
        service.failing = false;
      }
    });
  });
}
