/**
 * `connectorTimeoutMs` bounds one connector call, and the connector job's lock (2 × the timeout)
 * is sized on it. A handler that does not give up when its AbortSignal fires (a client library
 * without abort support, a synchronous SOAP stack) must still end the attempt at the timeout, as
 * a counted failure: otherwise the job outlives its lock and Agenda starts the call again while
 * the first one runs. The abandoned call's late answer is not applied.
 */
import { describe, expect, it } from 'vitest';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { notifyingProcess } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';
import { eventually } from '../support/wait.js';

const actor = admin();

const notifying = notifyingProcess('slow-notifying', 'deaf');

/** A far side that answers after 2.5 s, whatever the signal says; counts calls running at once. */
const deaf = { calls: 0, running: 0, mostAtOnce: 0, answered: 0 };

const [sqlite] = await testDatabases();

describe(`a connector call that outlives connectorTimeoutMs on ${sqlite!.kind}`, () => {
  const runtime = useRuntime(
    sqlite!,
    {
      connectors: {
        deaf: async (input) => {
          deaf.calls++;
          deaf.running++;
          deaf.mostAtOnce = Math.max(deaf.mostAtOnce, deaf.running);
          await new Promise((resolve) => setTimeout(resolve, 2_500));
          deaf.running--;
          deaf.answered++;
          return { receipt: `r-${input.to}` };
        },
      },
      scheduler: {
        processEveryMs: 100,
        // The connector job's lock is max(lockLifetimeMs, 2 × connectorTimeoutMs) = 600 ms.
        lockLifetimeMs: 100,
        connectorTimeoutMs: 300,
        connectorAttempts: 1,
        connectorBackoffMs: 50,
        outboxPollMs: 100,
      },
    },
    true,
  );

  it('ends it as a timed-out attempt (an incident), never runs it twice at once, and drops its late answer', async () => {
    const { services } = runtime();
    await services.definitions.deploy(actor, {
      name: 'slow-notifying',
      files: [{ filename: 's.bpmn', xml: notifying }],
    });
    const instance = await services.instances.start(actor, {
      definitionKey: 'slow-notifying',
      variables: { recipient: 'protocollo@pec.test' },
    });
    await eventually('the first call', async () => deaf.calls > 0);
    const [incident] = await eventually('the incident of the timed-out call', async () => {
      const open = await services.incidents.list(actor, {
        instanceId: instance.id,
        status: 'open',
      });
      return open.length ? open : null;
    });
    expect(incident).toMatchObject({ elementId: 'notify', type: 'connector' });
    expect(incident!.message).toBe('deaf failed after 1 attempt: no answer within 300 ms');

    // Long enough for the job to have outlived its lock several times, and the call to answer.
    await eventually('the abandoned call to answer', async () => deaf.answered > 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const detail = await services.instances.get(actor, instance.id);
    expect({
      calls: deaf.calls,
      mostAtOnce: deaf.mostAtOnce,
      status: detail.status,
      receipt: detail.variables.receipt,
      open: detail.incidents.filter((i) => i.status === 'open').length,
    }).toEqual({ calls: 1, mostAtOnce: 1, status: 'active', receipt: undefined, open: 1 });
  });
});
