/**
 * A send task with the pectrack:pec connector certifies a message through the intake's sending
 * (testkit provider SMTP front, real Dovecot): the outgoing Message row is recorded and its
 * Message-ID mapped into the process; a bad address raises an incident naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '@pectrack/connector-sdk/testing';
import { createPecTransport, parsePec } from '@pectrack/connector-pec';
import type { SmtpFront } from '@pectrack/connector-pec/testkit';
import { pecConnector } from '../../src/connectors/index.js';
import { createIntake, runMailboxSession } from '../../src/intake/index.js';
import { outgoingServices } from '../../src/intake/outgoing.js';
import { CONNECTOR_JOB } from '../../src/scheduler/index.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { eventually } from '../support/wait.js';
import { pecFixtures } from '../intake/support/fixtures.js';
import {
  RECIPIENT,
  sendPecTask,
  startSendTasks,
  THROTTLE_RETRY_MS,
} from '../intake/support/sending.js';
import { dovecotMissing, TENANT, type IntakeHarness } from '../intake/support/services.js';

const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const actor = admin();

/** The send task every diagram here starts with: a PEC to `office`, its Message-ID mapped. */
const SEND_PEC = sendPecTask();

/** The two waits for the sent message's receipts: acceptance, then delivery. */
const AWAIT_RECEIPTS = `<bpmn:receiveTask id="await-acceptance" messageRef="msg-receipt" pectrack:correlationKey="=sentMessageId" />
   <bpmn:receiveTask id="await-delivery" messageRef="msg-receipt" pectrack:correlationKey="=sentMessageId" />`;
const RECEIPT_MESSAGE = '<bpmn:message id="msg-receipt" name="pec.receipt" />';

const notifying = diagram(
  'notify-office',
  `${SEND_PEC}
   <bpmn:userTask id="follow-up" />
   <bpmn:endEvent id="end" />
   ${flows('start>send-pec', 'send-pec>follow-up', 'follow-up>end')}`,
);

/** Sends, has a clerk record the dispatch, then waits for the acceptance and the delivery. */
const notifyingAndAwaiting = diagram(
  'notify-and-await',
  `${SEND_PEC}
   <bpmn:userTask id="record-dispatch" />
   ${AWAIT_RECEIPTS}
   <bpmn:endEvent id="end" />
   ${flows(
     'start>send-pec',
     'send-pec>record-dispatch',
     'record-dispatch>await-acceptance',
     'await-acceptance>await-delivery',
     'await-delivery>end',
   )}`,
  RECEIPT_MESSAGE,
);

/** Sends and at once waits for the acceptance and the delivery, with the mailbox watched live. */
const notifyingThenWaiting = diagram(
  'notify-then-wait',
  `${SEND_PEC}
   ${AWAIT_RECEIPTS}
   <bpmn:endEvent id="end" />
   ${flows('start>send-pec', 'send-pec>await-acceptance', 'await-acceptance>await-delivery', 'await-delivery>end')}`,
  RECEIPT_MESSAGE,
);

describe.skipIf(Boolean(dovecotMissing))('the pectrack:pec connector', () => {
  const fixtures = pecFixtures();
  let h: IntakeHarness;
  let front: SmtpFront;
  let senderId: string;

  beforeAll(async () => {
    ({ h, front, senderId } = await startSendTasks(sqlite, fixtures, [
      { filename: 'notify.bpmn', xml: notifying },
      { filename: 'notify-and-await.bpmn', xml: notifyingAndAwaiting },
      { filename: 'notify-then-wait.bpmn', xml: notifyingThenWaiting },
    ]));
  });
  afterAll(async () => {
    await front?.close();
    await h?.close();
  });

  const start = (office: string, caseNumber: string) =>
    h.runtime.services.instances.start(actor, {
      definitionKey: 'notify-office',
      variables: { office, caseNumber },
    });

  it('sends through the mailbox SMTP, records the outgoing message and maps its Message-ID', async () => {
    const instance = await start(RECIPIENT, 'PR-7');
    const detail = await eventually('the follow-up task', async () => {
      const d = await h.runtime.services.instances.get(actor, instance.id);
      return typeof d.variables.sentMessageId === 'string' ? d : null;
    });
    const row = await knexOf(h.runtime.orm)('message')
      .where({ message_id: detail.variables.sentMessageId, direction: 'out' })
      .first();
    expect(row).toMatchObject({ subject: 'Pratica PR-7', delivery_status: 'submitted' });
    await front.settled();
    expect(front.failures).toEqual([]);
  });

  it('receipts that arrive before the process waits for them are kept for it', async () => {
    const instance = await h.runtime.services.instances.start(actor, {
      definitionKey: 'notify-and-await',
      variables: { office: RECIPIENT, caseNumber: 'PR-12' },
    });
    const [task] = await eventually('the dispatch task', async () => {
      const open = await h.runtime.services.tasks.list(actor, {
        instanceId: instance.id,
        status: 'open',
      });
      return open.length > 0 ? open : null;
    });
    // The provider accepts and delivers while the clerk has not yet recorded the dispatch.
    await front.settled();
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    const { sentMessageId } = (await h.runtime.services.instances.get(actor, instance.id))
      .variables;
    const kept = () =>
      knexOf(h.runtime.orm)('buffered_message')
        .where({ correlation_key: sentMessageId })
        .orderBy('created_at')
        .pluck('variables');
    const events = (await kept()).map(
      (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v).receipt.event,
    );
    expect(events).toEqual(['accepted', 'delivered']);

    await h.runtime.services.tasks.complete(actor, task!.id);
    const done = await h.runtime.services.instances.get(actor, instance.id);
    expect(done.status).toBe('completed');
    expect(done.variables).toMatchObject({
      receipt: { event: 'delivered', status: 'delivered', sentMessageId },
    });
    expect(await kept()).toEqual([]);
  });

  it('a process that sends and waits completes on the receipts of a mailbox watched live', async () => {
    const stop = new AbortController();
    const session = runMailboxSession(h.ctx, TENANT, senderId, { signal: stop.signal });
    try {
      const instances = await Promise.all(
        ['PR-13', 'PR-14', 'PR-15'].map((caseNumber) =>
          h.runtime.services.instances.start(actor, {
            definitionKey: 'notify-then-wait',
            variables: { office: RECIPIENT, caseNumber },
          }),
        ),
      );
      for (const instance of instances) {
        const done = await eventually('the process completed by its receipts', async () => {
          const detail = await h.runtime.services.instances.get(actor, instance.id);
          return detail.status === 'completed' ? detail : null;
        });
        expect(done.variables).toMatchObject({ receipt: { event: 'delivered' } });
      }
    } finally {
      stop.abort();
      await session;
    }
  });

  it('sends again, under the same key, what a throttling provider refused for now', async () => {
    front.faults = { busy: 2 };
    const instance = await start(RECIPIENT, 'PR-9');
    const detail = await eventually('the follow-up task', async () => {
      const d = await h.runtime.services.instances.get(actor, instance.id);
      return typeof d.variables.sentMessageId === 'string' ? d : null;
    });
    expect(
      await h.runtime.services.incidents.list(actor, { instanceId: instance.id, status: 'open' }),
    ).toEqual([]);
    const rows = await knexOf(h.runtime.orm)('message')
      .where({ subject: 'Pratica PR-9', direction: 'out' })
      .select('id', 'message_id');
    expect(rows).toEqual([{ id: expect.any(String), message_id: detail.variables.sentMessageId }]);
    const history = await knexOf(h.runtime.orm)('message_event')
      .where({ message_id: rows[0].id })
      .orderBy('id')
      .pluck('event');
    expect(history).toEqual(['submission-failed', 'submission-failed', 'submitted']);
    // InfoCert throttles for a minute: the connector's backoff (here 100 ms, then 200) would
    // spend every try inside it. Each try waits the throttle window at least.
    const times = await knexOf(h.runtime.orm)('message_event')
      .where({ message_id: rows[0].id })
      .orderBy('id')
      .pluck('at');
    const gaps = times
      .slice(1)
      .map((at, i) => new Date(at).getTime() - new Date(times[i]).getTime());
    expect(gaps.filter((gap) => gap < THROTTLE_RETRY_MS)).toEqual([]);
    await front.settled();
    expect(front.faults.busy).toBe(0);
    expect(front.processed.filter((p) => p.submission.subject === 'Pratica PR-9')).toHaveLength(1);
  });

  it('a provider that keeps throttling raises an incident once the tries are spent, not a wait without end', async () => {
    // The throttle's wait counts each try: a provider answering "later" for good (a suspended
    // account) ends as an incident a supervisor sees.
    front.faults = { busy: 1_000 };
    try {
      const instance = await start(RECIPIENT, 'PR-9b');
      const [incident] = await eventually(
        'the incident',
        async () => {
          const open = await h.runtime.services.incidents.list(actor, {
            instanceId: instance.id,
            status: 'open',
          });
          return open.length ? open : null;
        },
        20_000,
      );
      const [row] = await knexOf(h.runtime.orm)('message')
        .where({ subject: 'Pratica PR-9b', direction: 'out' })
        .select('id');
      const tries = await knexOf(h.runtime.orm)('message_event')
        .where({ message_id: row.id, event: 'submission-failed' })
        .count({ n: '*' });
      expect({ message: incident!.message, tries: Number(tries[0]!.n) }).toEqual({
        message: expect.stringMatching(/after 5 attempts.*4\.7\.0/),
        tries: 5,
      });
    } finally {
      front.faults = {};
    }
  });

  it("keeps to the mailbox's pace: a send past it waits for a slot, without an incident", async () => {
    let clock = Date.now();
    const realNow = h.ctx.now;
    h.ctx.now = () => new Date(clock);
    const smtp = { host: front.host, port: front.port, tls: false, allowPlaintext: true };
    await h.mailboxes.update(TENANT, senderId, { smtp: { ...smtp, maxPerMinute: 1 } });
    try {
      const sentBy = (instanceId: string) =>
        eventually('the sent message', async () => {
          const d = await h.runtime.services.instances.get(actor, instanceId);
          return typeof d.variables.sentMessageId === 'string' ? d : null;
        });
      const first = await start(RECIPIENT, 'PR-10');
      await sentBy(first.id);
      const second = await start(RECIPIENT, 'PR-11');
      await eventually('the second send told to wait for a slot', async () => {
        const { jobs } = await h.runtime.scheduler.agenda.queryJobs({ name: CONNECTOR_JOB });
        return jobs.some(
          (job) =>
            (job.data as { instanceId?: string }).instanceId === second.id &&
            job.lastFinishedAt !== undefined &&
            job.nextRunAt !== undefined &&
            job.nextRunAt !== null,
        );
      });
      clock += 61_000;
      const detail = await sentBy(second.id);
      const [row] = await knexOf(h.runtime.orm)('message')
        .where({ message_id: detail.variables.sentMessageId, direction: 'out' })
        .select('id');
      const [submitted] = await knexOf(h.runtime.orm)('message_event')
        .where({ message_id: row.id, event: 'submitted' })
        .select('at');
      expect(new Date(submitted.at).getTime()).toBeGreaterThanOrEqual(clock);
      for (const instance of [first, second])
        expect(await h.runtime.services.incidents.list(actor, { instanceId: instance.id })).toEqual(
          [],
        );
    } finally {
      h.ctx.now = realNow;
      await h.mailboxes.update(TENANT, senderId, { smtp: { ...smtp, maxPerMinute: null } });
    }
  });

  it('sends waiting for the pace go out in the order they first asked', async () => {
    // Past the minute of the pace test's submissions (stamped on its moved clock).
    let clock = Date.now() + 10 * 60_000;
    const realNow = h.ctx.now;
    h.ctx.now = () => new Date(clock);
    const smtp = { host: front.host, port: front.port, tls: false, allowPlaintext: true };
    await h.mailboxes.update(TENANT, senderId, { smtp: { ...smtp, maxPerMinute: 1 } });
    const waiting = async () =>
      JSON.parse(
        (await knexOf(h.runtime.orm)('mailbox').where({ id: senderId }).first()).smtp_waiting ??
          '[]',
      ) as { key: string; askedAt: string }[];
    try {
      const instances = [];
      for (const n of [20, 21, 22, 23]) instances.push(await start(RECIPIENT, `PR-${n}`));
      // One takes the slot, the three others queue, each under its task's key.
      const queue = await eventually('three sends queued', async () => {
        const keys = (await waiting()).map((w) => w.key);
        return keys.length === 3 ? keys : null;
      });
      const queuedInstances = queue.map((key) => instances.find((i) => key.includes(i.id))!.id);
      expect(new Set(queuedInstances).size).toBe(3);
      const subjectOf = async (instanceId: string) =>
        `Pratica ${(await h.runtime.services.instances.get(actor, instanceId)).variables.caseNumber}`;
      const expected = await Promise.all(queuedInstances.map(subjectOf));
      const sentSubjects = async () => {
        await front.settled();
        return front.processed
          .map((p) => p.submission.subject)
          .filter((subject) => /PR-2[0-3]$/.test(subject));
      };
      // Time goes on as it does: the waiters ask again (every pacingRecheckMs) within the minute,
      // so none lapses and loses its place.
      const askedSince = (instant: number) =>
        eventually('every waiter asking again', async () =>
          (await waiting()).every((w) => Date.parse(w.askedAt) >= instant) ? true : null,
        );
      for (let minute = 1; minute <= 3; minute++) {
        clock += 30_000;
        await askedSince(clock);
        clock += 31_000;
        await eventually(`minute ${minute}'s send`, async () =>
          (await sentSubjects()).length === minute + 1 ? true : null,
        );
      }
      expect((await sentSubjects()).slice(1)).toEqual(expected);
      expect(await waiting()).toEqual([]);
    } finally {
      h.ctx.now = realNow;
      await h.mailboxes.update(TENANT, senderId, { smtp: { ...smtp, maxPerMinute: null } });
    }
  });

  it('a run that finds its message still being submitted by a run that died waits, submitting nothing', async () => {
    let release: () => void = () => undefined;
    // The earlier run: it recorded the message and never got (nor recorded) an answer.
    const stalled = outgoingServices(h.ctx, (settings) => ({
      ...createPecTransport(settings),
      submit: () => new Promise((resolve) => (release = () => resolve(undefined as never))),
    }));
    const letter = { to: [RECIPIENT], subject: 'Pratica PR-12', text: 'Si trasmette.' };
    const key = 'service-task:held:send:1';
    const dying = stalled.send(TENANT, senderId, letter, { idempotencyKey: key });
    await eventually(
      'the recorded message',
      async () =>
        (await knexOf(h.runtime.orm)('message').where({ idempotency_key: key }).first()) ?? null,
    );
    await front.settled();
    const submissions = front.processed.length;

    const retry = runAction(pecConnector(createIntake(h.ctx, null)), 'send', {
      config: { mailboxId: senderId },
      input: letter,
      call: {
        idempotencyKey: key,
        tenantId: TENANT,
        instanceId: 'i',
        elementId: 'send',
        attempt: 2,
      },
    });

    // Deferred, as a paced send is: the scheduler asks again, no incident, nothing submitted.
    await expect(retry).rejects.toMatchObject({
      code: 'PEC_SEND_IN_PROGRESS',
      retryable: true,
      retryAfterMs: h.ctx.limits.pacingRecheckMs,
    });
    await front.settled();
    expect(front.processed).toHaveLength(submissions);
    release();
    await dying.catch(() => undefined);
  });

  it('attaches files the tenant uploaded, by SHA-256, and refuses bytes it did not upload', async () => {
    const connector = pecConnector(createIntake(h.ctx, null));
    const files = createIntake(h.ctx, null).files;
    const pdf = Buffer.from('%PDF-1.7\n' + 'determina firmata '.repeat(4000));
    const uploaded = await files.upload(TENANT, {
      filename: 'determina.pdf',
      contentType: 'application/pdf',
      content: [pdf],
      maxBytes: 1024 * 1024,
      createdBy: 'protocollo',
    });
    const send = (blob: string, key: string) =>
      runAction(connector, 'send', {
        config: { mailboxId: senderId },
        input: {
          to: [RECIPIENT],
          subject: `Determina ${key}`,
          text: 'Si trasmette la determina.',
          attachments: [{ filename: 'determina.pdf', contentType: 'application/pdf', blob }],
        },
        call: {
          idempotencyKey: key,
          tenantId: TENANT,
          instanceId: 'i',
          elementId: 'send',
          attempt: 1,
        },
      });

    const sent = (await send(uploaded.sha256, 'attach:1')) as { messageId: string };
    await front.settled();
    const submission = front.processed.find(
      (p) => p.submission.clientMessageId === sent.messageId,
    )!.submission;
    expect((await parsePec(submission.original)).inner?.attachments).toEqual([
      expect.objectContaining({
        filename: 'determina.pdf',
        sha256: uploaded.sha256,
        size: pdf.length,
      }),
    ]);

    // In the blob store (as every received message is), but not a file this tenant uploaded.
    const stored = await h.ctx.blobs.put(Buffer.from('non caricato da questo ente'));
    await expect(send(stored.sha256, 'attach:2')).rejects.toMatchObject({
      code: 'ATTACHMENT_MISSING',
      retryable: false,
      message: expect.stringContaining('attachments.0.blob'),
    });
  });

  it('raises an incident naming the field of a bad address, without sending', async () => {
    const before = await knexOf(h.runtime.orm)('message')
      .where({ direction: 'out' })
      .count({ n: '*' });
    const instance = await start('not-an-address', 'PR-8');
    const incident = await eventually('the incident', async () => {
      const [open] = await h.runtime.services.incidents.list(actor, {
        instanceId: instance.id,
        status: 'open',
      });
      return open;
    });
    expect(incident.message).toMatch(/after 1 attempt: input of action "send" is invalid: to: /);
    const after = await knexOf(h.runtime.orm)('message')
      .where({ direction: 'out' })
      .count({ n: '*' });
    expect(after).toEqual(before);
  });
});
