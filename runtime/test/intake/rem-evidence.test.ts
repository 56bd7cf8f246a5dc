/**
 * How REM (ETSI EN 319 532) evidence about a message we sent moves its recipients, under the
 * rule PEC follows (docs/pec.md: "one normalised event model for both"): evidence past the
 * submission speaks for the recipients it names; a REM dispatch from one of our mailboxes to
 * another is mail to us there. Found by review, each failing before its fix.
 *
 * Real parts: SQLite through the harness, a private Dovecot holding the sender's mailbox, the
 * intake's own mailbox session, a real SMTP server for the submission (scripted-smtp.ts: it
 * takes the message and sends nothing back), and REM messages signed by the testkit provider.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCertifiedMessage,
  ERDS_NAMESPACE,
  prepareSubmission,
  providerAddress,
  type Submission,
} from '@pectrack/connector-pec/testkit';
import { runMailboxSession } from '../../src/intake/index.js';
import { outgoingServices, type OutgoingServices } from '../../src/intake/outgoing.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { startScriptedSmtp, withData, type ScriptedSmtp } from './support/scripted-smtp.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const SENDER = 'protocollo@comune.pec.test';
const A = 'ufficio.tecnico@regione.pec.test';
const B = 'ragioneria@provincia.pec.test';

let serial = 0;

/**
 * A REM message carrying one ERDS evidence about `submission`, signed by the provider, built as
 * the testkit's buildRemMessage builds it; `recipients: null` leaves RecipientDetails out.
 */
function remEvidence(
  submission: Submission,
  type: string,
  recipients: string[] | null,
  dispatchTo?: string,
): Buffer {
  const n = ++serial;
  const date = new Date(submission.date.getTime() + n * 1000);
  const id = createHash('sha1').update(`${type}|${submission.identificativo}|${n}`).digest('hex');
  const xml = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ev:${type} xmlns:ev="${ERDS_NAMESPACE}">`,
    `  <ev:EvidenceIdentifier>${id}</ev:EvidenceIdentifier>`,
    `  <ev:EventTime>${date.toISOString()}</ev:EventTime>`,
    `  <ev:SenderDetails><ev:ElectronicAddress>mailto:${submission.sender}</ev:ElectronicAddress></ev:SenderDetails>`,
    ...(recipients === null
      ? []
      : [
          '  <ev:RecipientDetails>',
          ...recipients.map((r) => `    <ev:ElectronicAddress>mailto:${r}</ev:ElectronicAddress>`),
          '  </ev:RecipientDetails>',
        ]),
    `  <ev:UAMessageIdentifier>${submission.clientMessageId.replace(/</g, '&lt;').replace(/>/g, '&gt;')}</ev:UAMessageIdentifier>`,
    `</ev:${type}>`,
  ].join('\r\n');
  const base64 = (
    Buffer.from(xml + '\r\n', 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');
  const section = Buffer.from(
    [
      'Content-Type: application/xml; name="evidence.xml"',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: inline; filename="evidence.xml"',
      'REM-Section-Type: rem_message/evidence',
      '',
      base64,
      '',
    ].join('\r\n'),
    'utf8',
  );
  return buildCertifiedMessage({
    provider: fixtures.provider,
    date,
    headers: [
      ['Message-ID', `<rem.${id.slice(0, 16)}@${fixtures.provider.domain}>`],
      ['REM-UAMessageIdentifier', submission.clientMessageId],
      ['From', providerAddress(fixtures.provider)],
      ['To', dispatchTo ?? submission.sender],
      ['Subject', `REM ${type}: ${submission.subject}`],
    ],
    notice: `Registered Electronic Mail: ${type}\nMessage: ${submission.clientMessageId}`,
    // A dispatch carries the sender's original, addressed to the recipient's mailbox.
    extraParts: dispatchTo
      ? [
          Buffer.concat([
            Buffer.from(
              'Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n' +
                'REM-Section-Type: rem_message/original\r\n\r\n',
            ),
            submission.postacert,
          ]),
          section,
        ]
      : [section],
  });
}

describe.skipIf(Boolean(dovecotMissing))('REM evidence about a message we sent', () => {
  let h: IntakeHarness;
  let smtp: ScriptedSmtp;
  let outgoing: OutgoingServices;
  let senderId: string;
  let officeId: string;
  let n = 0;

  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures);
    smtp = await startScriptedSmtp();
    senderId = await h.addMailbox(SENDER, { smtp: { host: smtp.host, port: smtp.port } });
    officeId = await h.addMailbox(A);
    outgoing = outgoingServices(h.ctx);
  });
  afterAll(async () => {
    await smtp?.close();
    await h?.close();
  });

  const send = async (to: string[]) => {
    const sent = await outgoing.send(TENANT, senderId, {
      to,
      subject: `Trasmissione REM ${++n}`,
      text: 'Si trasmettono gli atti richiesti.',
    });
    const raw = withData(smtp.sessions).at(-1)!.data!;
    return { sent, submission: prepareSubmission({ provider: fixtures.provider, message: raw }) };
  };
  const arrive = async (...raws: Buffer[]) => {
    await h.append(SENDER, raws);
    await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
  };
  const statesOf = async (id: string) =>
    Object.fromEntries(
      (
        await knexOf(h.runtime.orm)('outgoing_recipient')
          .where({ message_id: id })
          .select('address', 'status')
      ).map((r: { address: string; status: string }) => [r.address, r.status]),
    );

  it('a ContentConsignment without RecipientDetails does not certify every recipient delivered', async () => {
    // Consignment (EN 319 522 event D) is per recipient, as PEC's avvenuta-consegna, whose
    // receipt without <consegna> moves no one when the message went to several
    // (receipt-correlation.test.ts). The same evidence in REM must not deliver A and B both, and
    // B's own ContentConsignmentFailure must count.
    const { sent, submission } = await send([A, B]);
    await arrive(
      remEvidence(submission, 'SubmissionAcceptance', [A, B]),
      remEvidence(submission, 'ContentConsignment', null),
      remEvidence(submission, 'ContentConsignmentFailure', [B]),
    );
    const message = await knexOf(h.runtime.orm)('message').where({ id: sent.id }).first();
    expect({ states: await statesOf(sent.id), message: message.delivery_status }).toEqual({
      states: { [A]: 'accepted', [B]: 'failed' },
      message: 'failed',
    });
  });

  it('a REM dispatch from one of our mailboxes to another opens a case in the receiving one', async () => {
    // ARCHITECTURE §2.4: an incoming certified message opens a Case; README: "a REM dispatch (a
    // REM message carrying the sender's original, whatever evidence comes with it) unless its
    // evidence is about a message we sent". The protocol office sends to the technical office,
    // both mailboxes of the body: as PEC, the transport envelope in the technical office opens a
    // case; as REM, the dispatch arriving there (addressed to it, in its mailbox) must too. It is
    // a message to us, not a receipt for the sending mailbox.
    const { submission } = await send([A]);
    await h.append(A, [remEvidence(submission, 'SubmissionAcceptance', [A], A)]);
    await runMailboxSession(h.ctx, TENANT, officeId, { once: true });
    const db = knexOf(h.runtime.orm);
    const [received] = await db('message').where({ mailbox_id: officeId }).select('id', 'kind');
    expect(received).toMatchObject({ kind: 'SubmissionAcceptance' });
    const entries = (await db('outbox').where({ kind: 'intake' }).select('payload'))
      .map((row: { payload: string | { messageId: string } }) =>
        typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload,
      )
      .filter((payload: { messageId: string }) => payload.messageId === received.id);
    expect(entries).toHaveLength(1);
  });
});
