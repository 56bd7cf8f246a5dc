/**
 * An incident retry repeats the connector call under the same job ref (so under the same
 * idempotency key), as the call's next retry. The job that raised the incident can be delivered
 * again after a crash (its process died after `connectorResult` committed the incident and before
 * Agenda recorded the end of the run): it is taken up once its lock expires, while the instance
 * awaits the retried call. It must neither call the connector with the input from before the
 * person's correction nor have its answer applied.
 */
import { describe, expect, it } from 'vitest';
import { CONNECTOR_JOB } from '../../src/scheduler/index.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { notifyingProcess } from '../support/fixtures.js';
import { useRuntime } from '../support/runtime.js';
import { eventually } from '../support/wait.js';

const actor = admin();

const notifying = notifyingProcess('notify-office', 'mail');

/** The far side refuses the wrong address for good; the right one is accepted after 0.7 s. */
const mail = { calls: [] as { to: string; key: string }[] };

const [sqlite] = await testDatabases();

describe(`an incident retried with corrected variables on ${sqlite!.kind}`, () => {
  const runtime = useRuntime(
    sqlite!,
    {
      connectors: {
        mail: async (input, context) => {
          mail.calls.push({ to: String(input.to), key: context.idempotencyKey });
          if (input.to === 'wrong@pec.test')
            throw Object.assign(new Error('550 mailbox unknown'), { retryable: false });
          await new Promise((resolve) => setTimeout(resolve, 700));
          return { receipt: `r-${input.to}` };
        },
      },
      scheduler: {
        processEveryMs: 100,
        lockLifetimeMs: 1_500,
        connectorTimeoutMs: 750,
        connectorAttempts: 3,
        connectorBackoffMs: 50,
        outboxPollMs: 100,
      },
    },
    true,
  );

  it('never lets the job that raised the incident call the connector again with the old input', async () => {
    const { services, orm, scheduler } = runtime();
    await services.definitions.deploy(actor, {
      name: 'notify-office',
      files: [{ filename: 'n.bpmn', xml: notifying }],
    });
    const instance = await services.instances.start(actor, {
      definitionKey: 'notify-office',
      variables: { recipient: 'wrong@pec.test' },
    });
    const [incident] = await eventually('the incident of the refused address', async () => {
      const open = await services.incidents.list(actor, {
        instanceId: instance.id,
        status: 'open',
      });
      return open.length ? open : null;
    });
    const [first] = (
      await eventually('the first job to be recorded as finished', async () => {
        const { jobs } = await scheduler.agenda.queryJobs({ name: CONNECTOR_JOB });
        const mine = jobs.filter(
          (j) => (j.data as { instanceId: string }).instanceId === instance.id && j.lastFinishedAt,
        );
        return mine.length ? mine : null;
      })
    ).map((j) => j._id);

    // The row as Agenda leaves it when the process dies after the result was committed and before
    // the end of the run was saved: locked by the dead process, not finished. Its lock (the
    // connector job's lock lifetime is max(lockLifetimeMs, 2 × connectorTimeoutMs) = 1.5 s) runs
    // out 0.3 s from now, while the retried call is still on its way.
    await knexOf(orm)('agenda_jobs')
      .where({ id: String(first) })
      .update({ locked_at: Date.now() - 1_200, last_finished_at: null, next_run_at: null });

    // The supervisor corrects the address and retries, within the dead process's lock lifetime.
    await services.incidents.retry(actor, incident!.id, { recipient: 'right@pec.test' });

    // The retried call answers 0.7 s after it starts; give everything time to land.
    await eventually('the retried call', async () =>
      mail.calls.some((c) => c.to === 'right@pec.test'),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const settled = await services.instances.get(actor, instance.id);
    expect({
      calls: mail.calls.map((c) => c.to),
      status: settled.status,
      receipt: settled.variables.receipt,
      open: settled.incidents.filter((i) => i.status === 'open').map((i) => i.message),
    }).toEqual({
      calls: ['wrong@pec.test', 'right@pec.test'],
      status: 'completed',
      receipt: 'r-right@pec.test',
      open: [],
    });
    // Still the same call to the far side: a send it certainly did not take can be replaced.
    expect(new Set(mail.calls.map((c) => c.key)).size).toBe(1);
  });
});
