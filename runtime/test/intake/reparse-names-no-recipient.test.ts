/**
 * A valid delivery receipt that names none of the recipients of the message
 * it refers to (no <consegna>, for a message sent to two) is kept in the history once, as a
 * `receipt-not-applied` step (receipts.ts, namesNoRecipient). Reading that receipt again
 * (reparse.ts) must not do it again: "Nothing is done twice", and `receiptApplied` means the
 * receipt moved the sent message for the first time.
 *
 * No IMAP: the message is sent through a scripted SMTP server and its receipts, built and signed
 * by the testkit provider, are stored as the intake stores them (support/recording.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReceipt, prepareSubmission } from '@pectrack/connector-pec/testkit';
import { deliveryFeed } from '../../src/intake/delivery-feed.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { outgoingServices } from '../../src/intake/outgoing.js';
import { reparseServices } from '../../src/intake/reparse.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { readBy, startSetting, store, type Setting } from './support/recording.js';
import { startScriptedSmtp, withData, type ScriptedSmtp } from './support/scripted-smtp.js';
import { TENANT } from './support/services.js';

const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const fixtures = pecFixtures();
const SENDER = 'ufficio.protocollo@comune.pec.test';
const A = 'ufficio.tecnico@regione.pec.test';
const B = 'ragioneria@provincia.pec.test';

describe.skipIf(!sqlite.available)('a receipt that names no recipient, read again', () => {
  let s: Setting;
  let smtp: ScriptedSmtp;
  let senderId: string;

  beforeAll(async () => {
    s = await startSetting(sqlite, fixtures);
    smtp = await startScriptedSmtp();
    const mailbox = await mailboxServices(s.withAnchors).create(TENANT, {
      name: 'Ufficio protocollo',
      address: SENDER,
      imap: { host: '127.0.0.1', port: 143, tls: false, allowPlaintext: true },
      username: SENDER,
      password: 'segreto',
      smtp: { host: smtp.host, port: smtp.port, tls: false, allowPlaintext: true },
    });
    senderId = mailbox.id;
  });
  afterAll(async () => {
    await smtp?.close();
    await s?.close();
  });

  it('reading it again adds no second receipt-not-applied step and does not call it applied', async () => {
    const sent = await outgoingServices(s.withAnchors).send(TENANT, senderId, {
      to: [A, B],
      subject: 'Trasmissione atti',
      text: 'Si trasmettono gli atti richiesti.',
    });
    const submission = prepareSubmission({
      provider: fixtures.provider,
      message: withData(smtp.sessions).at(-1)!.data!,
    });
    const at = (seconds: number) => new Date(submission.date.getTime() + seconds * 1000);
    const acceptance = buildReceipt({
      provider: fixtures.provider,
      submission,
      kind: 'accettazione',
      date: at(1),
    });
    // A valid delivery receipt whose daticert omits <consegna>: it speaks for no one of two.
    const delivery = buildReceipt({
      provider: fixtures.provider,
      submission,
      kind: 'avvenuta-consegna',
      recipient: '',
      date: at(2),
    });
    await store(s, acceptance, readBy(s.withAnchors, acceptance), senderId);
    const receiptId = await store(s, delivery, readBy(s.withAnchors, delivery), senderId);

    const notApplied = async () =>
      (await deliveryFeed(s.withAnchors).read(TENANT, { limit: 500 })).events.filter(
        (e) => e.messageId === sent.id && e.receiptMessageId === receiptId,
      );
    expect((await notApplied()).map((e) => e.event)).toEqual(['receipt-not-applied']);

    // An administrator reads the receipts again (e.g. after configuring the trust anchors).
    const first = await reparseServices(s.withAnchors).one(TENANT, receiptId);
    const second = await reparseServices(s.withAnchors).one(TENANT, receiptId);
    expect({
      applied: [first.receiptApplied, second.receiptApplied],
      steps: (await notApplied()).map((e) => e.event),
    }).toEqual({ applied: [false, false], steps: ['receipt-not-applied'] });
  });
});
