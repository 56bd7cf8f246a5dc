/**
 * The pectrack:pec send task as a process runs it: a diagram with the connector, the runtime's
 * scheduler and incidents, the intake's sending through the testkit provider's SMTP front, a
 * private Dovecot for the sender's and recipient's mailboxes. A retried incident sends under the
 * same key (never certifying twice), a cancelled instance sends nothing, attachment names carry
 * no directory or control character, an optional copy that holds nothing is no copy. Found by
 * review, each failing before its fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '@pectrack/connector-sdk/testing';
import { parsePec } from '@pectrack/connector-pec';
import type { SmtpFront } from '@pectrack/connector-pec/testkit';
import { pecConnector } from '../../src/connectors/index.js';
import { createIntake, runMailboxSession } from '../../src/intake/index.js';
import { CONNECTOR_JOB } from '../../src/scheduler/index.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { eventually } from '../support/wait.js';
import { pecFixtures } from '../intake/support/fixtures.js';
import { RECIPIENT, sendPecTask, startSendTasks } from '../intake/support/sending.js';
import { dovecotMissing, TENANT, type IntakeHarness } from '../intake/support/services.js';

const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const actor = admin();

const notifying = diagram(
  'notify-office',
  `${sendPecTask()}
   <bpmn:userTask id="follow-up" />
   <bpmn:endEvent id="end" />
   ${flows('start>send-pec', 'send-pec>follow-up', 'follow-up>end')}`,
);

/** The template's optional Cc, mapped to a process variable that may hold no address. */
const notifyingWithCopy = diagram(
  'notify-with-copy',
  `${sendPecTask('\n         <pectrack:input source="=copyTo" target="cc" />')}
   <bpmn:userTask id="follow-up" />
   <bpmn:endEvent id="end" />
   ${flows('start>send-pec', 'send-pec>follow-up', 'follow-up>end')}`,
);

describe.skipIf(Boolean(dovecotMissing))('the pectrack:pec send task in a running process', () => {
  const fixtures = pecFixtures();
  let h: IntakeHarness;
  let front: SmtpFront;
  let senderId: string;

  beforeAll(async () => {
    ({ h, front, senderId } = await startSendTasks(sqlite, fixtures, [
      { filename: 'notify.bpmn', xml: notifying },
      { filename: 'notify-with-copy.bpmn', xml: notifyingWithCopy },
    ]));
  });
  afterAll(async () => {
    await front?.close();
    await h?.close();
  });

  it('retrying the incident of a send whose answer was lost, after its receipts came, certifies nothing again', async () => {
    // The provider takes the message but its answer to the DATA is an error: the send is final
    // (pec.ts: "a person decides, by retrying the incident"; any other retry "could certify the
    // message twice"). outgoing.ts: the receipts correct the state "and a retry under the same
    // key then sends nothing". The clerk sees the message delivered and retries the incident:
    // the task must go on with the message already certified, not certify a second one.
    front.faults = { failAfterAccepting: true };
    const instance = await h.runtime.services.instances.start(actor, {
      definitionKey: 'notify-office',
      variables: { office: RECIPIENT, caseNumber: 'RV-1' },
    });
    const incident = await eventually('the incident of the lost answer', async () => {
      const [open] = await h.runtime.services.incidents.list(actor, {
        instanceId: instance.id,
        status: 'open',
      });
      return open;
    });
    front.faults = {};
    await front.settled();
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    const [first] = await knexOf(h.runtime.orm)('message')
      .where({ subject: 'Pratica RV-1', direction: 'out' })
      .select('id', 'message_id', 'delivery_status');
    expect(first).toMatchObject({ delivery_status: 'delivered' });

    await h.runtime.services.incidents.retry(actor, incident.id);
    const detail = await eventually('the send task done after the retry', async () => {
      const d = await h.runtime.services.instances.get(actor, instance.id);
      return typeof d.variables.sentMessageId === 'string' ? d : null;
    });
    await front.settled();
    expect({
      submissions: front.processed.filter((p) => p.submission.subject === 'Pratica RV-1').length,
      sentMessageId: detail.variables.sentMessageId,
    }).toEqual({ submissions: 1, sentMessageId: first.message_id });
  });

  /** The instance's open incident, once the engine has raised it. */
  const openIncident = (instanceId: string) =>
    eventually('an open incident', async () => {
      const [open] = await h.runtime.services.incidents.list(actor, { instanceId, status: 'open' });
      return open;
    });

  it('a send refused for an address that does not exist goes out corrected when the incident is retried with the right one', async () => {
    // The provider refuses the office's address at RCPT TO (a domain that does not exist): it
    // took nothing, so the clerk's correction, retried from the incident, must go out, and the
    // task's call must not be refused as a reused key for asking for another message.
    const wrong = 'ufficio.tecnico@regione-inesistente.pec.test';
    front.faults = { refuseRecipients: [wrong] };
    const instance = await h.runtime.services.instances.start(actor, {
      definitionKey: 'notify-office',
      variables: { office: wrong, caseNumber: 'RV-5' },
    });
    const incident = await openIncident(instance.id);
    front.faults = {};
    await h.runtime.services.incidents.retry(actor, incident.id, { office: RECIPIENT });
    const detail = await eventually('the corrected send done', async () => {
      const d = await h.runtime.services.instances.get(actor, instance.id);
      return typeof d.variables.sentMessageId === 'string' ? d : null;
    });
    await front.settled();
    const rows = await knexOf(h.runtime.orm)('message')
      .where({ subject: 'Pratica RV-5', direction: 'out' })
      .orderBy('received_at')
      .select('id', 'message_id', 'recipients', 'idempotency_key', 'delivery_status');
    const history = await knexOf(h.runtime.orm)('message_event')
      .where({ message_id: rows[0]!.id })
      .orderBy('id')
      .pluck('event');
    expect({
      incident: incident.message,
      delivered: front.processed
        .filter((p) => p.submission.subject === 'Pratica RV-5')
        .map((p) => p.deliveries.filter((d) => d.startsWith('posta-certificata'))),
      refused: { status: rows[0]?.delivery_status, key: rows[0]?.idempotency_key, history },
      sent: detail.variables.sentMessageId,
    }).toEqual({
      incident: expect.stringMatching(/5\.1\.1|does not exist/),
      delivered: [[`posta-certificata → ${RECIPIENT}`]],
      refused: { status: 'failed', key: null, history: ['submission-failed', 'replaced'] },
      sent: rows[1]?.message_id,
    });
  });

  it('a corrected retry is refused, naming why, while the provider may have certified the first message', async () => {
    // The provider took the message and answered with an error: it may be certified. Sending
    // the corrected one in its place would make two legal notifications; the retry is refused
    // with a reason a supervisor can act on, and nothing more is submitted.
    front.faults = { failAfterAccepting: true };
    const instance = await h.runtime.services.instances.start(actor, {
      definitionKey: 'notify-office',
      variables: { office: RECIPIENT, caseNumber: 'RV-6' },
    });
    const first = await openIncident(instance.id);
    front.faults = {};
    await h.runtime.services.incidents.retry(actor, first.id, { caseNumber: 'RV-6 bis' });
    const second = await eventually('the incident of the corrected retry', async () => {
      const open = await openIncident(instance.id);
      return open.id === first.id ? null : open;
    });
    await front.settled();
    expect({
      reason: second.message,
      submitted: front.processed.filter((p) => p.submission.subject.startsWith('Pratica RV-6'))
        .length,
    }).toEqual({ reason: expect.stringMatching(/may have certified it/), submitted: 1 });
  });

  it('a send task whose instance was cancelled while it waited for its slot sends nothing', async () => {
    // pacing.ts: a waiter that stops asking ("its instance cancelled") loses its place; the
    // connector call must stop with its instance. A clerk who withdraws a case while its PEC
    // waits for the mailbox's pace (InfoCert: 6 a minute) must not see it certified afterwards.
    let clock = Date.now() + 60 * 60_000;
    const realNow = h.ctx.now;
    h.ctx.now = () => new Date(clock);
    const smtp = { host: front.host, port: front.port, tls: false, allowPlaintext: true };
    await h.mailboxes.update(TENANT, senderId, { smtp: { ...smtp, maxPerMinute: 1 } });
    const sentBy = (instanceId: string) =>
      eventually('the sent message', async () => {
        const d = await h.runtime.services.instances.get(actor, instanceId);
        return typeof d.variables.sentMessageId === 'string' ? d : null;
      });
    try {
      const first = await h.runtime.services.instances.start(actor, {
        definitionKey: 'notify-office',
        variables: { office: RECIPIENT, caseNumber: 'RV-2a' },
      });
      await sentBy(first.id);
      const second = await h.runtime.services.instances.start(actor, {
        definitionKey: 'notify-office',
        variables: { office: RECIPIENT, caseNumber: 'RV-2b' },
      });
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
      await h.runtime.services.instances.cancel(actor, second.id, 'pratica ritirata');
      clock += 61_000;
      const submitted = () =>
        front.processed.some((p) => p.submission.subject === 'Pratica RV-2b') ? true : null;
      await eventually('a submission of the cancelled send', async () => submitted(), 5_000).catch(
        () => null,
      );
      await front.settled();
      const recorded = await knexOf(h.runtime.orm)('message')
        .where({ subject: 'Pratica RV-2b', direction: 'out' })
        .count({ n: '*' });
      expect({
        submitted: submitted() ?? false,
        recorded: Number(recorded[0]!.n),
      }).toEqual({ submitted: false, recorded: 0 });
    } finally {
      h.ctx.now = realNow;
      await h.mailboxes.update(TENANT, senderId, { smtp: { ...smtp, maxPerMinute: null } });
    }
  });

  it('an attachment name with a directory part or control characters never reaches the recipient', async () => {
    // files.ts: "A file's name as an attachment carries it: no directory part, no control
    // characters" (an upload named so is refused, 400, naming the field). The send task names
    // its attachments itself; the same rule holds there: refused naming the field, or cleaned,
    // never handed to the provider as written.
    const intake = createIntake(h.ctx, null);
    const uploaded = await intake.files.upload(TENANT, {
      filename: 'determina.pdf',
      contentType: 'application/pdf',
      content: [Buffer.from('%PDF-1.7\ndetermina firmata\n')],
      maxBytes: 1024 * 1024,
      createdBy: 'protocollo',
    });
    const names = ['C:\\fakepath\\determina.pdf', '../../determina.pdf', 'determina\r\n.pdf'];
    const refusals: string[] = [];
    for (const [index, filename] of names.entries()) {
      const outcome = await runAction(pecConnector(intake), 'send', {
        config: { mailboxId: senderId },
        input: {
          to: [RECIPIENT],
          subject: `Determina RV-3.${index}`,
          text: 'Si trasmette la determina.',
          attachments: [{ filename, contentType: 'application/pdf', blob: uploaded.sha256 }],
        },
        call: {
          idempotencyKey: `filename-${index}`,
          tenantId: TENANT,
          instanceId: 'i',
          elementId: 'send',
          attempt: 1,
        },
      }).catch((error: Error) => error);
      if (outcome instanceof Error) refusals.push(outcome.message);
    }
    // Refused naming the field, before anything was recorded or submitted.
    expect(refusals).toEqual(names.map(() => expect.stringMatching(/attachments\.0\.filename/)));
    await front.settled();
    const delivered: string[] = [];
    for (const p of front.processed.filter((p) =>
      p.submission.subject.startsWith('Determina RV-3'),
    ))
      for (const a of (await parsePec(p.submission.original)).inner?.attachments ?? [])
        delivered.push(a.filename ?? '');
    expect(delivered.filter((name) => /[\\/\u0000-\u001f\u007f]/.test(name))).toEqual([]);
  });

  it('an optional Cc that holds no address (an empty list, or a variable not set) sends to To alone', async () => {
    // The template marks Cc optional ("optional: true"); a process that computes its copies
    // (=copyTo) often has none. No copy is no Cc, not a bad input: the message goes to To, the
    // task goes on, no incident (today: "cc: Too small: expected array to have >=1 items").
    const outcomes: Record<string, unknown> = {};
    for (const [caseNumber, copyTo] of [
      ['RV-4a', []],
      ['RV-4b', null],
    ] as const) {
      const instance = await h.runtime.services.instances.start(actor, {
        definitionKey: 'notify-with-copy',
        variables: { office: RECIPIENT, caseNumber, copyTo },
      });
      outcomes[caseNumber] = await eventually('the send, or its incident', async () => {
        const d = await h.runtime.services.instances.get(actor, instance.id);
        if (typeof d.variables.sentMessageId === 'string') return 'sent';
        const [open] = await h.runtime.services.incidents.list(actor, {
          instanceId: instance.id,
          status: 'open',
        });
        return open ? `incident: ${open.message}` : null;
      });
    }
    expect(outcomes).toEqual({ 'RV-4a': 'sent', 'RV-4b': 'sent' });
  });
});
