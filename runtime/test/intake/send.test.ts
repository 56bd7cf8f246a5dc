/**
 * Certified sending through the testkit provider's SMTP front: the receipts come back into the
 * sender's mailbox, the intake correlates them, and the outgoing message ends `delivered`
 * (or `failed` with non-delivery on); each receipt reaches the BPMN process waiting for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReceipt, type SmtpFront } from '@pectrack/connector-pec/testkit';
import { runMailboxSession } from '../../src/intake/index.js';
import { SECOND_TIMEOUT_REASON } from '../../src/intake/delivery.js';
import { SubmissionFailedError, type OutgoingServices } from '../../src/intake/outgoing.js';
import { deliveryFeed } from '../../src/intake/delivery-feed.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { countIntakeEntries } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import {
  AWAIT_RECEIPTS,
  RECIPIENT,
  SENDER,
  startSending,
  type SendingHarness,
} from './support/sending.js';
import { dovecotMissing, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
/** An ordinary (non-PEC) address: the provider hands the message to plain e-mail. */
const CITIZEN = 'mario.rossi@posta.example.it';

describe.skipIf(Boolean(dovecotMissing))('certified sending', () => {
  let h: IntakeHarness;
  let front: SmtpFront;
  let outgoing: OutgoingServices;
  let senderId: string;
  let recipientId: string;
  let sending: SendingHarness | undefined;

  beforeAll(async () => {
    sending = await startSending(sqlite, fixtures, { externalDomains: ['posta.example.it'] });
    ({ h, front, outgoing, senderId, recipientId } = sending);
    await h.runtime.services.definitions.deploy(admin(), {
      name: 'receipts',
      files: [{ filename: 'receipts.bpmn', xml: AWAIT_RECEIPTS }],
    });
  });
  afterAll(() => sending?.close());

  /** Sends, lets the provider deliver and answer, and reads the receipts back. */
  const sendAndSync = async (input: Parameters<OutgoingServices['send']>[2]) => {
    const sent = await outgoing.send(TENANT, senderId, input);
    await front.settled();
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    return sent;
  };
  const recipientStates = (id: string) =>
    knexOf(h.runtime.orm)('outgoing_recipient')
      .where({ message_id: id })
      .orderBy('address')
      .select('address', 'status');
  const events = async (id: string) =>
    (
      await knexOf(h.runtime.orm)('message_event')
        .where({ message_id: id })
        .orderBy('id')
        .select('event')
    ).map((e: { event: string }) => e.event);

  it('delivers: accettazione and avvenuta-consegna arrive and the message ends delivered', async () => {
    const sent = await outgoing.send(TENANT, senderId, {
      to: [RECIPIENT],
      subject: 'Richiesta parere',
      text: 'Si trasmette la pratica.',
    });
    expect(sent.deliveryStatus).toBe('submitted');
    const instance = await h.runtime.services.instances.start(admin(), {
      definitionKey: 'await-receipts',
      variables: { sentMessageId: sent.messageId },
    });

    await front.settled();
    expect(front.failures).toEqual([]);
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });

    const row = await knexOf(h.runtime.orm)('message').where({ id: sent.id }).first();
    expect(row.delivery_status).toBe('delivered');
    expect(await recipientStates(sent.id)).toEqual([{ address: RECIPIENT, status: 'delivered' }]);
    expect(await events(sent.id)).toEqual(['submitted', 'accettazione', 'avvenuta-consegna']);
    const receipts = await knexOf(h.runtime.orm)('message')
      .where({ original_message_id: sent.messageId })
      .orderBy('kind')
      .pluck('kind');
    expect(receipts).toEqual(['accettazione', 'avvenuta-consegna']);
    expect((await h.runtime.services.instances.get(admin(), instance.id)).status).toBe('completed');

    // Another system following the delivery feed sees the same steps, each receipt with its row.
    const steps = (await deliveryFeed(h.ctx).read(TENANT, { limit: 500 })).events.filter(
      (e) => e.sentMessageId === sent.messageId,
    );
    expect(steps.map((e) => e.event)).toEqual(['submitted', 'accettazione', 'avvenuta-consegna']);
    const receiptRows = await knexOf(h.runtime.orm)('message')
      .where({ original_message_id: sent.messageId })
      .pluck('id');
    expect(new Set(steps.slice(1).map((e) => e.receiptMessageId))).toEqual(new Set(receiptRows));

    // The recipient's mailbox got the transport envelope that carries our Message-ID.
    await runMailboxSession(h.ctx, TENANT, recipientId, { once: true });
    const envelope = await knexOf(h.runtime.orm)('message')
      .where({ mailbox_id: recipientId, kind: 'posta-certificata' })
      .first();
    expect(envelope.original_message_id).toBe(sent.messageId);
  });

  it('fails: with non-delivery switched on the message ends failed', async () => {
    front.faults = { ...front.faults, nonDelivery: true };
    const sent = await sendAndSync({
      to: [RECIPIENT],
      subject: 'Sollecito',
      text: 'Si sollecita riscontro.',
    });
    const row = await knexOf(h.runtime.orm)('message').where({ id: sent.id }).first();
    expect(row.delivery_status).toBe('failed');
    expect(await recipientStates(sent.id)).toEqual([{ address: RECIPIENT, status: 'failed' }]);
    expect(await events(sent.id)).toEqual(['submitted', 'accettazione', 'errore-consegna']);
  });

  it('a timeout warning leaves the recipient in timeout', async () => {
    front.faults = { ...front.faults, nonDelivery: false, timeoutWarnings: 1 };
    const sent = await sendAndSync({
      to: [RECIPIENT],
      subject: 'Terzo invio',
      text: '...',
    });
    expect(await recipientStates(sent.id)).toEqual([{ address: RECIPIENT, status: 'timeout' }]);
  });

  it('the second timeout warning (24 hours) fails the recipient, saying why', async () => {
    front.faults = { ...front.faults, timeoutWarnings: 2 };
    const sent = await sendAndSync({
      to: [RECIPIENT],
      subject: 'Quarto invio',
      text: '...',
    });
    expect(await recipientStates(sent.id)).toEqual([{ address: RECIPIENT, status: 'failed' }]);
    const steps = await knexOf(h.runtime.orm)('message_event')
      .where({ message_id: sent.id, event: 'preavviso-errore-consegna' })
      .orderBy('id')
      .pluck('data');
    expect(steps.map((d: unknown) => (typeof d === 'string' ? JSON.parse(d) : d))).toMatchObject([
      { from: 'accepted', to: 'timeout' },
      { from: 'timeout', to: 'failed', reason: SECOND_TIMEOUT_REASON },
    ]);
    front.faults = { ...front.faults, timeoutWarnings: 0 };
  });

  it('an ordinary-mail recipient ends external at acceptance; the certified one decides the message', async () => {
    const sent = await outgoing.send(TENANT, senderId, {
      to: [RECIPIENT, CITIZEN],
      subject: 'Comunicazione di avvio del procedimento',
      text: '...',
    });
    await front.settled();
    expect(front.processed.at(-1)!.deliveries).toContain(`posta-ordinaria → ${CITIZEN}`);
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    expect(await recipientStates(sent.id)).toEqual([
      { address: CITIZEN, status: 'external' },
      { address: RECIPIENT, status: 'delivered' },
    ]);
    const row = await knexOf(h.runtime.orm)('message').where({ id: sent.id }).first();
    expect(row.delivery_status).toBe('delivered');
  });

  it('tracks one recipient per address when it is named twice, in To and Cc or in two cases', async () => {
    const sent = await sendAndSync({
      to: [RECIPIENT],
      cc: [RECIPIENT.toUpperCase()],
      subject: 'Per conoscenza',
      text: '...',
    });
    expect(await recipientStates(sent.id)).toEqual([{ address: RECIPIENT, status: 'delivered' }]);
  });

  it('a lost submission answer is corrected by the receipts, and a retry sends nothing', async () => {
    front.faults = { ...front.faults, failAfterAccepting: true };
    const input = { to: [RECIPIENT], subject: 'Risposta persa', text: '...' };
    const attempt = await outgoing
      .send(TENANT, senderId, input, { idempotencyKey: 'lost-answer' })
      .catch((error: unknown) => error);
    front.faults = { ...front.faults, failAfterAccepting: false };
    expect(attempt).toBeInstanceOf(SubmissionFailedError);
    // The data had gone out: a retry might certify it twice, so it is not sent again by itself.
    expect((attempt as SubmissionFailedError).details).toMatchObject({ transient: false });
    const id = (attempt as SubmissionFailedError).details!.id as string;
    expect(await recipientStates(id)).toEqual([{ address: RECIPIENT, status: 'failed' }]);

    await front.settled();
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    expect(await recipientStates(id)).toEqual([{ address: RECIPIENT, status: 'delivered' }]);
    const submissions = front.processed.length;
    const retried = await outgoing.send(TENANT, senderId, input, {
      idempotencyKey: 'lost-answer',
    });
    expect(retried).toMatchObject({ id, deliveryStatus: 'delivered' });
    await front.settled();
    expect(front.processed.length).toBe(submissions);
  });

  it('a receipt that changes nothing is kept in the history but wakes no process', async () => {
    const awaitReceipts = () =>
      h.runtime.services.instances.start(admin(), {
        definitionKey: 'await-receipts',
        variables: { sentMessageId: sent.messageId },
      });
    const sent = await outgoing.send(TENANT, senderId, {
      to: [RECIPIENT],
      subject: 'Ricevuta tardiva',
      text: '...',
    });
    const first = await awaitReceipts();
    await front.settled();
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    expect((await h.runtime.services.instances.get(admin(), first.id)).status).toBe('completed');
    // Both receipts went to the first instance: nothing is kept for this one.
    const instance = await awaitReceipts();
    // A second acceptance for the delivered message (as a provider re-sends one, with its own id).
    const { submission } = front.processed.at(-1)!;
    await h.append(SENDER, [
      buildReceipt({
        provider: fixtures.provider,
        submission,
        kind: 'accettazione',
        date: new Date(submission.date.getTime() + 60_000),
      }),
    ]);
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    expect(await events(sent.id)).toEqual([
      'submitted',
      'accettazione',
      'avvenuta-consegna',
      'accettazione',
    ]);
    const waiting = await h.runtime.services.instances.get(admin(), instance.id);
    expect(waiting.status).toBe('active');
    const waits = await knexOf(h.runtime.orm)('subscription')
      .where({ instance_id: instance.id })
      .pluck('element_id');
    expect(waits).toEqual(['await-acceptance']);
    const kept = await knexOf(h.runtime.orm)('buffered_message')
      .where({ correlation_key: sent.messageId })
      .count({ n: '*' });
    expect(Number(kept[0]!.n)).toBe(0);
  });

  it('receipts committed but not handed over (the runtime died after the commit) reach their process through the sweep', async () => {
    const sent = await outgoing.send(TENANT, senderId, {
      to: [RECIPIENT],
      subject: 'Interrotta',
      text: '...',
    });
    const instance = await h.runtime.services.instances.start(admin(), {
      definitionKey: 'await-receipts',
      variables: { sentMessageId: sent.messageId },
    });
    const receipts = h.ctx.receipts;
    h.ctx.receipts = {
      ...receipts,
      deliver: async () => {
        throw new Error('the runtime died here');
      },
    };
    try {
      await front.settled();
      await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
    } finally {
      h.ctx.receipts = receipts;
    }
    expect((await h.runtime.services.instances.get(admin(), instance.id)).status).toBe('active');
    const kept = () =>
      knexOf(h.runtime.orm)('buffered_message')
        .where({ correlation_key: sent.messageId })
        .count({ n: '*' })
        .then((rows) => Number(rows[0]!.n));
    expect(await kept()).toBe(2);

    await h.runtime.internal.redeliverBufferedMessages();
    expect((await h.runtime.services.instances.get(admin(), instance.id)).status).toBe('completed');
    expect(await kept()).toBe(0);
  });

  it('a virus is refused at acceptance: non-accettazione, nothing delivered, failed', async () => {
    front.faults = { ...front.faults, virus: true };
    const sent = await sendAndSync({
      to: [RECIPIENT],
      subject: 'Con allegato',
      text: '...',
    });
    expect(await recipientStates(sent.id)).toEqual([{ address: RECIPIENT, status: 'failed' }]);
    expect(await events(sent.id)).toEqual(['submitted', 'non-accettazione']);
    expect(front.processed.at(-1)!.deliveries).toEqual([`non-accettazione → ${SENDER}`]);
  });

  it('an anomaly fault hands the recipient an anomaly envelope, stored as such', async () => {
    // What earlier tests delivered to the recipient is counted first.
    await runMailboxSession(h.ctx, TENANT, recipientId, { once: true });
    const intakeBefore = await countIntakeEntries(h.runtime.orm);
    front.faults = { ...front.faults, virus: false, anomaly: true };
    const sent = await outgoing.send(TENANT, senderId, {
      to: [RECIPIENT],
      subject: 'Anomalo',
      text: '...',
    });
    await front.settled();
    await runMailboxSession(h.ctx, TENANT, recipientId, { once: true });
    const anomaly = await knexOf(h.runtime.orm)('message')
      .where({ mailbox_id: recipientId, original_message_id: sent.messageId })
      .first();
    expect(anomaly.kind).toBe('anomalia');
    // Not a certified message: it does not open a case by itself.
    expect(await countIntakeEntries(h.runtime.orm)).toBe(intakeBefore);
  });

  it('refuses to send from a mailbox without SMTP settings, naming the field', async () => {
    await expect(
      outgoing.send(TENANT, recipientId, { to: [SENDER], subject: 'x', text: 'y' }),
    ).rejects.toMatchObject({
      code: 'mailbox-without-smtp',
      details: { field: 'smtp' },
    });
  });
});
