/**
 * Timers, connector calls and the outbox with two runtime nodes on one PostgreSQL database:
 * each effect is dispatched once and each call made once, whichever node commits or drains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import type { ConnectorHandler } from '../../src/scheduler/index.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { diagram, flows } from '../support/fixtures.js';
import { eventually } from '../support/wait.js';
import { testDatabases } from '../support/databases.js';

const postgres = (await testDatabases()).find((d) => d.kind === 'postgresql')!;
const actor = admin();

/** Two runtimes, `a` and `b`, on one new database; each node's connector handler says its name. */
async function startTwoNodes(connectorType: string, handler: (node: string) => ConnectorHandler) {
  const created = await postgres.create();
  const scheduler = { processEveryMs: 100, outboxPollMs: 100 };
  const node = (name: string) =>
    createRuntime(created.config, { scheduler, connectors: { [connectorType]: handler(name) } });
  const a = await node('a');
  const b = await node('b');
  await a.start();
  await b.start();
  return { a, b, drop: created.drop };
}

const timedCall = diagram(
  'timed-call',
  `<bpmn:startEvent id="start" />
   <bpmn:intermediateCatchEvent id="wait">
     <bpmn:timerEventDefinition><bpmn:timeDuration>PT0S</bpmn:timeDuration></bpmn:timerEventDefinition>
   </bpmn:intermediateCatchEvent>
   <bpmn:serviceTask id="notify">
     <bpmn:extensionElements>
       <pectrack:connector type="counter">
         <pectrack:input source="=n" target="n" />
       </pectrack:connector>
     </bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:endEvent id="end" />
   ${flows('start>wait', 'wait>notify', 'notify>end')}`,
);

describe.skipIf(!postgres.available)('engine jobs on two nodes of one PostgreSQL database', () => {
  const calls = new Map<string, string[]>();
  const counter =
    (node: string): ConnectorHandler =>
    async (_input, context) => {
      calls.set(context.instanceId, [...(calls.get(context.instanceId) ?? []), node]);
      return {};
    };
  let a: Runtime;
  let b: Runtime;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ a, b, drop } = await startTwoNodes('counter', counter));
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await drop?.();
  });

  it('fires each timer and calls each connector once across both nodes', async () => {
    await a.services.definitions.deploy(actor, {
      name: 't',
      files: [{ filename: 't.bpmn', xml: timedCall }],
    });
    const started = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        (n % 2 ? a : b).services.instances.start(actor, {
          definitionKey: 'timed-call',
          variables: { n },
        }),
      ),
    );
    await eventually(
      'every instance to complete',
      async () => {
        const rows = await knexOf(a.orm)('process_instance')
          .whereIn(
            'id',
            started.map((i) => i.id),
          )
          .andWhere({ status: 'completed' })
          .count({ n: '*' });
        return Number(rows[0]!.n) === started.length;
      },
      60_000,
    );
    // Let any second run show itself.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const twice = [...calls.entries()].filter(([, nodes]) => nodes.length !== 1);
    expect(twice).toEqual([]);
    expect(calls.size).toBe(started.length);
    const outbox = await knexOf(a.orm)('outbox').whereNot({ status: 'done' }).count({ n: '*' });
    expect(Number(outbox[0]!.n)).toBe(0);
  });
});

const slowCall = diagram(
  'slow-call',
  `<bpmn:startEvent id="start" />
   <bpmn:serviceTask id="notify">
     <bpmn:extensionElements>
       <pectrack:connector type="slow">
         <pectrack:input source="=n" target="n" />
       </pectrack:connector>
     </bpmn:extensionElements>
   </bpmn:serviceTask>
   <bpmn:endEvent id="end" />
   ${flows('start>notify', 'notify>end')}`,
);

describe.skipIf(!postgres.available)('a node stopped during a connector call', () => {
  const calls: { node: string; key: string }[] = [];
  let firstCallStarted: () => void = () => undefined;
  const firstCall = new Promise<void>((resolve) => (firstCallStarted = resolve));
  const slow =
    (node: string): ConnectorHandler =>
    async (_input, context) => {
      calls.push({ node, key: context.idempotencyKey });
      firstCallStarted();
      // A certified send or an HTTP call that takes a moment; well inside the 30 s timeout.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return { answeredBy: node };
    };
  let a: Runtime;
  let b: Runtime;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ a, b, drop } = await startTwoNodes('slow', slow));
  });
  afterAll(async () => {
    await a?.stop().catch(() => undefined);
    await b?.stop();
    await drop?.();
  });

  it('finishes the call it had started (or leaves it at once to the other node), never calls twice', async () => {
    // A rolling restart (SIGTERM → runtime.stop()) while this node runs a connector job: the
    // stop waits for the call and stores its answer, so the other node has nothing to run again.
    await a.services.definitions.deploy(actor, {
      name: 's',
      files: [{ filename: 's.bpmn', xml: slowCall }],
    });
    const instance = await a.services.instances.start(actor, {
      definitionKey: 'slow-call',
      variables: { n: 1 },
    });
    await firstCall;
    const [calling, other] = calls[0]!.node === 'a' ? [a, b] : [b, a];
    await calling.stop();
    // Far more than storing an answer or handing a job over takes; far less than the 60 s lock.
    const deadline = Date.now() + 20_000;
    let status = 'active';
    while (Date.now() < deadline && calls.length === 1) {
      status = (await other.services.instances.get(actor, instance.id)).status;
      if (status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect({ status, calls: calls.map(({ node }) => node) }).toEqual({
      status: 'completed',
      calls: [calls[0]!.node],
    });
  });
});
