/**
 * A connector call that succeeded, and the storing of its answer, are two things: an answer that
 * cannot be stored right away is stored by a later run of the job without calling the connector
 * again (a second call could repeat its side effect), and one that cannot be stored at all ends in
 * an incident that says so, never in an instance silently waiting on its service task. On
 * PostgreSQL, whose jsonb refuses U+0000, a NUL-padded field in an answer is stored spelled out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { builtinConnectors, installAll, registryEntries } from '../../src/connectors/index.js';
import type { Variables } from '../../src/engine/types.js';
import type { InternalCommands } from '../../src/services/index.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';
import { eventually } from '../support/wait.js';

const actor = admin();

const serviceTask = (processId: string, connectorType: string, inputs: string, outputs: string) =>
  diagram(
    processId,
    `<bpmn:startEvent id="start" />
     <bpmn:serviceTask id="call">
       <bpmn:extensionElements>
         <pectrack:connector type="${connectorType}">${inputs}${outputs}</pectrack:connector>
       </bpmn:extensionElements>
     </bpmn:serviceTask>
     <bpmn:endEvent id="end" />
     ${flows('start>call', 'call>end')}`,
  );

const filing = serviceTask(
  'filing',
  'filing',
  '<pectrack:input source="=caseNumber" target="caseNumber" />',
  '<pectrack:output source="=receipt" target="receipt" />',
);
const shapeless = serviceTask('shapeless', 'shapeless', '', '');
const lookup = serviceTask(
  'registry-lookup',
  'pectrack:http',
  `<pectrack:input source="=serviceUrl" target="url" />
   <pectrack:input source="={fiscalCode: fiscalCode}" target="body" />`,
  '<pectrack:output source="=body.holder" target="holder" />',
);

/** Calls per case number; answers `{ receipt: "r-<case number>" }`. */
const filed = new Map<string, number>();
/** A far side whose answer is not an object of variables. */
const shapelessCalls = { count: 0 };

/** A registry whose answer carries a fixed-width, NUL-padded name. */
let registryCalls = 0;
let registryUrl = '';
let registry: Server;
beforeAll(async () => {
  registry = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      registryCalls++;
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"holder":"MARIO ROSSI\\u0000\\u0000\\u0000"}');
    });
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/lookup`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      registry.closeAllConnections();
      registry.close(() => resolve());
    }),
);

/**
 * Makes storing the answer carrying `receipt` fail `times` times, as a database that is away
 * would: the store's own failure, the call having succeeded.
 */
function failStoring(internal: InternalCommands, receipt: string, times: number): void {
  const store = internal.connectorResult;
  let failures = 0;
  internal.connectorResult = async (tenantId, instanceId, job, result) => {
    if (result.ok && result.output.receipt === receipt && failures < times) {
      failures++;
      throw new Error('Connection terminated unexpectedly');
    }
    return store(tenantId, instanceId, job, result);
  };
}

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`connector answers on ${database.kind}`, () => {
    const runtime = useRuntime(
      database,
      {
        connectors: {
          ...registryEntries(
            installAll(builtinConnectors(), { 'pectrack:http': { timeoutMs: 2_000 } }),
            pino({ level: 'silent' }),
          ),
          filing: async (input) => {
            const caseNumber = String(input.caseNumber);
            filed.set(caseNumber, (filed.get(caseNumber) ?? 0) + 1);
            return { receipt: `r-${caseNumber}` };
          },
          shapeless: async () => {
            shapelessCalls.count++;
            return ['not', 'variables'] as unknown as Variables;
          },
        },
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
      for (const [name, xml] of [
        ['filing', filing],
        ['shapeless', shapeless],
        ['registry-lookup', lookup],
      ] as const) {
        await runtime().services.definitions.deploy(actor, {
          name,
          files: [{ filename: `${name}.bpmn`, xml }],
        });
      }
    });

    const settled = (instanceId: string) =>
      eventually('the call to complete or raise an incident', async () => {
        const detail = await runtime().services.instances.get(actor, instanceId);
        return detail.status === 'completed' || detail.hasIncident ? detail : null;
      });

    const file = (caseNumber: string) =>
      runtime().services.instances.start(actor, {
        definitionKey: 'filing',
        variables: { caseNumber },
      });

    it('stores an answer whose storing failed by a later run, without calling again', async () => {
      const caseNumber = `${database.kind}-once`;
      failStoring(runtime().internal, `r-${caseNumber}`, 1);
      const done = await settled((await file(caseNumber)).id);
      expect({
        status: done.status,
        receipt: done.variables.receipt,
        calls: filed.get(caseNumber),
      }).toEqual({ status: 'completed', receipt: `r-${caseNumber}`, calls: 1 });
    });

    it('raises an incident saying the answer could not be stored once the attempts are spent', async () => {
      const caseNumber = `${database.kind}-never`;
      failStoring(runtime().internal, `r-${caseNumber}`, Infinity);
      const detail = await settled((await file(caseNumber)).id);
      expect({
        status: detail.status,
        open: detail.incidents.filter((i) => i.status === 'open').map((i) => i.message),
        calls: filed.get(caseNumber),
      }).toEqual({
        status: 'active',
        open: [
          'filing answered, but its answer could not be stored: Connection terminated unexpectedly',
        ],
        calls: 1,
      });
    });

    it('raises the incident at once for an answer the engine refuses, calling once', async () => {
      shapelessCalls.count = 0;
      const instance = await runtime().services.instances.start(actor, {
        definitionKey: 'shapeless',
        variables: {},
      });
      const detail = await settled(instance.id);
      // Long enough for Agenda's retries, had the job been left to fail.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect({
        open: detail.incidents.filter((i) => i.status === 'open').map((i) => i.message),
        calls: shapelessCalls.count,
      }).toEqual({
        open: [
          'shapeless answered, but its answer could not be stored: variables must be an object of name → value',
        ],
        calls: 1,
      });
    });

    it('stores a NUL-padded field of an answer, the NULs spelled out on PostgreSQL', async () => {
      registryCalls = 0;
      const instance = await runtime().services.instances.start(actor, {
        definitionKey: 'registry-lookup',
        variables: { serviceUrl: registryUrl, fiscalCode: 'RSSMRA80A01H501U' },
      });
      const done = await settled(instance.id);
      const nul = database.kind === 'postgresql' ? '\\u0000' : '\u0000';
      expect({
        status: done.status,
        holder: done.variables.holder,
        incidents: done.incidents.map((i) => i.message),
        calls: registryCalls,
      }).toEqual({
        status: 'completed',
        holder: `MARIO ROSSI${nul.repeat(3)}`,
        incidents: [],
        calls: 1,
      });
    });
  });
}
