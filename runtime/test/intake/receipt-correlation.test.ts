/**
 * What a receipt about a message we sent certifies, and what it does not (receipts.ts,
 * delivery.ts, record.ts, earlier-send.ts), per docs/pec.md: a delivery receipt speaks for the
 * recipient its <consegna> names, whatever way it is written; a warning sent again is not the
 * second one; an anomaly envelope certifies nothing; a late acceptance still reaches the process.
 * Found by review, each failing before its fix.
 *
 * Real parts only: PostgreSQL, a private Dovecot holding the sender's mailbox, the intake's own
 * mailbox session, a real SMTP server for the submission (support/scripted-smtp.ts: it takes
 * the message and sends no receipt, so each test chooses which receipts come and in what order),
 * and receipts built and signed by the testkit provider (buildReceipt), trusted by the harness.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAnomalyEnvelope,
  buildReceipt,
  prepareSubmission,
  type ReceiptKind,
  type ReceiptOptions,
  type Submission,
} from '@pectrack/connector-pec/testkit';
import { runMailboxSession } from '../../src/intake/index.js';
import {
  outgoingServices,
  SubmissionFailedError,
  type OutgoingServices,
} from '../../src/intake/outgoing.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { AWAIT_RECEIPTS } from './support/sending.js';
import { startScriptedSmtp, withData, type ScriptedSmtp } from './support/scripted-smtp.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const postgresql = (await testDatabases()).find((d) => d.kind === 'postgresql')!;
const SENDER = 'protocollo@comune.pec.test';
const A = 'ufficio.tecnico@regione.pec.test';
const B = 'ragioneria@provincia.pec.test';

describe.skipIf(Boolean(dovecotMissing) || !postgresql.available)(
  'receipts for messages we sent: what each certifies',
  () => {
    let h: IntakeHarness;
    let smtp: ScriptedSmtp;
    let outgoing: OutgoingServices;
    let senderId: string;
    let n = 0;
    let second = 0;

    beforeAll(async () => {
      h = await startHarness(postgresql, fixtures);
      smtp = await startScriptedSmtp();
      senderId = await h.addMailbox(SENDER, { smtp: { host: smtp.host, port: smtp.port } });
      outgoing = outgoingServices(h.ctx);
      await h.runtime.services.definitions.deploy(admin(), {
        name: 'await-receipts',
        files: [{ filename: 'await-receipts.bpmn', xml: AWAIT_RECEIPTS }],
      });
    });
    afterAll(async () => {
      await smtp?.close();
      await h?.close();
    });

    /** Sends through the real SMTP server; the submission as the provider took it. */
    const send = async (to: string[]) => {
      const sent = await outgoing.send(TENANT, senderId, {
        to,
        subject: `Trasmissione atti ${++n}`,
        text: 'Si trasmettono gli atti richiesti.',
      });
      const raw = withData(smtp.sessions).at(-1)!.data!;
      return { sent, submission: prepareSubmission({ provider: fixtures.provider, message: raw }) };
    };
    /** A receipt signed by the provider, each one certified a second after the previous. */
    const receipt = (submission: Submission, kind: ReceiptKind, o: Partial<ReceiptOptions> = {}) =>
      buildReceipt({
        provider: fixtures.provider,
        submission,
        kind,
        date: new Date(submission.date.getTime() + ++second * 1000),
        ...o,
      });
    /** The receipts land in the sender's mailbox in this order and the intake reads them. */
    const arrive = async (...raws: Buffer[]) => {
      await h.append(SENDER, raws);
      await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    };
    const db = () => knexOf(h.runtime.orm);
    const statesOf = async (id: string) =>
      Object.fromEntries(
        (
          await db()('outgoing_recipient').where({ message_id: id }).select('address', 'status')
        ).map((r: { address: string; status: string }) => [r.address, r.status]),
      );
    const messageStatusOf = async (id: string) =>
      ((await db()('message').where({ id }).first()) as { delivery_status: string })
        .delivery_status;

    it('a 12-hour preavviso the provider sends again (same certified time, new id) leaves the recipient in timeout, not failed', async () => {
      // docs/pec.md: a warning at 12 h; "a second one at 24 h means failure". A copy of the
      // 12-hour warning (the same certified data/ora, its own Message-ID, as providers re-send
      // receipts) is not the 24-hour one: nothing says the provider gave up.
      const { sent, submission } = await send([A]);
      const at12h = new Date(submission.date.getTime() + 12 * 3600_000);
      await arrive(
        receipt(submission, 'accettazione'),
        receipt(submission, 'preavviso-errore-consegna', { recipient: A, date: at12h }),
        receipt(submission, 'preavviso-errore-consegna', {
          recipient: A,
          date: at12h,
          receiptId: `preavviso-copia.${n}@pec.test`,
        }),
      );
      expect(await statesOf(sent.id)).toEqual({ [A]: 'timeout' });
    });

    it('a delivery receipt whose daticert omits <consegna> does not certify every recipient delivered', async () => {
      // docs/pec.md: "One delivery receipt arrives per delivered recipient (<consegna> names
      // it)"; consegna is optional ("real files omit them"). A receipt that names no recipient
      // cannot certify that B was delivered, and B's own errore-consegna must count.
      const { sent, submission } = await send([A, B]);
      await arrive(
        receipt(submission, 'accettazione'),
        receipt(submission, 'avvenuta-consegna', { recipient: '' }), // daticert without <consegna>
        receipt(submission, 'errore-consegna', { recipient: B }),
      );
      expect({
        states: await statesOf(sent.id),
        message: await messageStatusOf(sent.id),
      }).toEqual({ states: { [A]: 'accepted', [B]: 'failed' }, message: 'failed' });
      // Kept in the history as a receipt that moved no one, and why.
      const notApplied = await db()('message_event')
        .where({ message_id: sent.id, event: 'receipt-not-applied' })
        .select('data');
      expect(JSON.stringify(notApplied)).toContain('names no recipient of this message');
      // Sent to one recipient, the same receipt can only be about that one.
      const alone = await send([A]);
      await arrive(
        receipt(alone.submission, 'accettazione'),
        receipt(alone.submission, 'avvenuta-consegna', { recipient: '' }),
      );
      expect(await statesOf(alone.sent.id)).toEqual({ [A]: 'delivered' });
    });

    it('an anomaly envelope carrying our Message-ID is no delivery step and no sign the provider took the message', async () => {
      // docs/pec.md: an anomaly envelope is "non-certified mail arriving at a PEC box", no
      // daticert: it certifies nothing about a message we sent, however its Message-ID reads.
      smtp.script = { afterData: () => '554 5.7.1 Message refused' };
      const letter = { to: [A], subject: 'Rifiutato dal gestore', text: 'Si trasmette.' };
      const refused = await outgoing
        .send(TENANT, senderId, letter, { idempotencyKey: 'anomaly-after-refusal' })
        .catch((error: unknown) => error);
      smtp.script = {};
      expect(refused).toBeInstanceOf(SubmissionFailedError);
      const id = (refused as SubmissionFailedError).details!.id as string;
      const [{ message_id: messageId }] = await db()('message').where({ id }).select('message_id');
      // Plain mail to our PEC box that carries that Message-ID (relayed or forged): the provider
      // wraps it as an anomaly, X-Riferimento-Message-ID = that id.
      await arrive(
        buildAnomalyEnvelope({
          provider: fixtures.provider,
          message: {
            from: 'qualcuno@posta.example.it',
            to: [SENDER],
            subject: 'Trasmissione atti',
            text: '...',
            messageId,
          } as Parameters<typeof buildAnomalyEnvelope>[0]['message'],
        }),
      );
      const anomalySteps = await db()('message_event')
        .where({ message_id: id, event: 'anomalia' })
        .pluck('recipient');
      const before = withData(smtp.sessions).length;
      const retry = await outgoing.send(TENANT, senderId, letter, {
        idempotencyKey: 'anomaly-after-refusal',
      });
      expect({
        anomalySteps,
        replayed: retry.replayed,
        resubmitted: withData(smtp.sessions).length - before,
      }).toEqual({ anomalySteps: [], replayed: false, resubmitted: 1 });
    });

    it('an accettazione that arrives after the avvenuta-consegna still reaches the process as pec.receipt', async () => {
      // delivery.ts: "Receipts may arrive out of order (a delivery before its acceptance)". The
      // acceptance is a receipt of its own kind, arriving for the first time: a process that
      // waits for the acceptance and for the delivery must get both.
      const { sent, submission } = await send([A]);
      const instance = await h.runtime.services.instances.start(admin(), {
        definitionKey: 'await-receipts',
        variables: { sentMessageId: sent.messageId },
      });
      await arrive(receipt(submission, 'avvenuta-consegna', { recipient: A }));
      await arrive(receipt(submission, 'accettazione'));
      expect(await statesOf(sent.id)).toEqual({ [A]: 'delivered' });
      expect((await h.runtime.services.instances.get(admin(), instance.id)).status).toBe(
        'completed',
      );
    });

    it('a delivery receipt whose <consegna> carries a display name moves that recipient', async () => {
      // docs/pec.md: <consegna> names the recipient delivered to. The address it names is B's;
      // today the receipt matches nobody and leaves not even a step in B's history.
      const { sent, submission } = await send([A, B]);
      await arrive(
        receipt(submission, 'accettazione'),
        receipt(submission, 'avvenuta-consegna', { recipient: `Ragioneria <${B}>` }),
      );
      const steps = await db()('message_event')
        .where({ message_id: sent.id, event: 'avvenuta-consegna' })
        .pluck('recipient');
      expect({ b: (await statesOf(sent.id))[B], steps }).toEqual({ b: 'delivered', steps: [B] });
    });
  },
);
