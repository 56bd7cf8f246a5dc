/**
 * A runtime process for the crash tests: `node --import tsx crash-worker.ts seed|resume`.
 * Configuration comes from the environment like `pectrack serve` (PECTRACK_DATA_DIR,
 * PECTRACK_DATABASE_URL); CONNECTOR_URL is the test's HTTP receiver. `seed` deploys and
 * starts instances that wait on user tasks, timers and connector calls, then prints READY;
 * `resume` only runs the scheduler and prints RUNNING. The test ends it with SIGKILL.
 */
import { loadConfig } from '../../src/config.js';
import { createRuntime } from '../../src/runtime.js';
import type { Actor } from '../../src/services/types.js';
import { CRASH_DIAGRAMS, CRASH_INSTANCES } from './crash-diagrams.js';

const phase = process.argv[2];
const connectorUrl = process.env.CONNECTOR_URL!;
const actor: Actor = {
  tenantId: 'default',
  userId: 'worker',
  username: 'worker',
  roles: ['admin'],
};

const runtime = await createRuntime(loadConfig(), {
  connectors: {
    'http-echo': async (input, context) => {
      const response = await fetch(connectorUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': context.idempotencyKey },
        body: JSON.stringify(input),
        signal: context.signal,
      });
      if (!response.ok) throw new Error(`receiver answered ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    },
  },
  scheduler: {
    processEveryMs: 200,
    lockLifetimeMs: 2_000,
    connectorAttempts: 100,
    connectorTimeoutMs: 1_000,
    connectorBackoffMs: 200,
    outboxPollMs: 200,
    outboxLeaseMs: 2_000,
  },
});
await runtime.start();

if (phase === 'seed') {
  for (const [key, xml] of Object.entries(CRASH_DIAGRAMS)) {
    await runtime.services.definitions.deploy(actor, {
      name: key,
      files: [{ filename: `${key}.bpmn`, xml }],
    });
    await Promise.all(
      Array.from({ length: CRASH_INSTANCES }, (_, i) =>
        runtime.services.instances.start(actor, {
          definitionKey: key,
          businessKey: `${key}-${i}`,
          variables: { caseNumber: `${key}-${i}` },
        }),
      ),
    );
  }
  process.stdout.write('READY\n');
} else {
  process.stdout.write('RUNNING\n');
}
