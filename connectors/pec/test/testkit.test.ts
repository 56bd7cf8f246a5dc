import { beforeAll, describe, expect, it } from 'vitest';
import { parsePec } from '../src/index.js';
import {
  buildReceipt,
  buildTransportEnvelope,
  prepareSubmission,
  replaceMessageId,
} from '../src/testkit/index.js';
import { DATE, ORIGINAL, testWorld } from './fixtures.js';

let world: ReturnType<typeof testWorld>;
beforeAll(() => {
  world = testWorld();
});

/** What a mail client hands to the provider's SMTP: folded headers, an encoded subject, bare LF tolerated elsewhere. */
const SUBMITTED = Buffer.from(
  [
    'From: "Mario Rossi" <mario.rossi@pec.mittente.test>',
    'To: protocollo@pec.comune.test,',
    ' "Ufficio Tributi" <tributi@pec.comune.test>',
    'Cc: ragioneria@pec.comune.test',
    'Subject: =?UTF-8?Q?Richiesta_di_rimborso_IMU_=E2=80=93_2025?=',
    'Message-ID:',
    ' <20261126.abc@client.mittente.test>',
    'X-TipoRicevuta: breve',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Si chiede il rimborso.',
    '',
  ].join('\r\n'),
);

describe('prepareSubmission from the raw bytes a client submitted', () => {
  it('reads sender, recipients, subject, client id and the requested receipt type', () => {
    const submission = prepareSubmission({
      provider: world.sender,
      message: SUBMITTED,
      date: DATE,
    });
    expect(submission).toMatchObject({
      sender: 'mario.rossi@pec.mittente.test',
      to: ['protocollo@pec.comune.test', 'tributi@pec.comune.test'],
      cc: ['ragioneria@pec.comune.test'],
      subject: 'Richiesta di rimborso IMU – 2025',
      clientMessageId: '<20261126.abc@client.mittente.test>',
      receiptType: 'breve',
      recipients: [
        { address: 'protocollo@pec.comune.test', tipo: 'certificato' },
        { address: 'tributi@pec.comune.test', tipo: 'certificato' },
        { address: 'ragioneria@pec.comune.test', tipo: 'certificato' },
      ],
    });
    expect(submission.original.equals(SUBMITTED)).toBe(true);
  });

  it('replaces only the Message-ID in postacert.eml, folded continuation included', () => {
    const submission = prepareSubmission({
      provider: world.sender,
      message: SUBMITTED,
      date: DATE,
      identificativo: 'opec.42@pec.mittente.test',
    });
    const expected = SUBMITTED.toString('latin1').replace(
      'Message-ID:\r\n <20261126.abc@client.mittente.test>',
      'Message-ID: <opec.42@pec.mittente.test>',
    );
    expect(submission.postacert.toString('latin1')).toBe(expected);
  });

  it('adds a Message-ID when the client sent none', () => {
    const withoutId = Buffer.from('From: a@pec.test\r\nSubject: x\r\n\r\nbody\r\n');
    expect(replaceMessageId(withoutId, '<p@pec.test>').toString()).toBe(
      'From: a@pec.test\r\nSubject: x\r\nMessage-ID: <p@pec.test>\r\n\r\nbody\r\n',
    );
  });

  it('makes an envelope the parser reads back, signed and correlated', async () => {
    const submission = prepareSubmission({
      provider: world.sender,
      message: SUBMITTED,
      date: DATE,
    });
    const envelope = await parsePec(
      buildTransportEnvelope({ provider: world.sender, submission }),
      { trustAnchors: world.anchors },
    );
    expect(envelope).toMatchObject({
      kind: 'posta-certificata',
      providerId: submission.identificativo,
      originalMessageId: '<20261126.abc@client.mittente.test>',
      signature: { status: 'valid' },
      inner: { subject: 'Richiesta di rimborso IMU – 2025', text: 'Si chiede il rimborso.\n' },
      problems: [],
    });
  });
});

describe('delivery receipts', () => {
  it('give a Cc recipient sintetica whatever the case of its address (docs/pec.md)', async () => {
    const submission = prepareSubmission({
      provider: world.sender,
      message: SUBMITTED,
      date: DATE,
    });
    const typeFor = async (recipient: string) =>
      (
        await parsePec(
          buildReceipt({
            provider: world.receiver,
            submission,
            kind: 'avvenuta-consegna',
            recipient,
          }),
          { trustAnchors: world.anchors },
        )
      ).receiptType;
    // SMTP hands recipients over lower-cased; the submission keeps the header's case.
    expect(await typeFor('ragioneria@pec.comune.test')).toBe('sintetica');
    expect(await typeFor('RAGIONERIA@pec.comune.test')).toBe('sintetica');
    expect(await typeFor('protocollo@pec.comune.test')).toBe('breve');
  });
});

describe('builders are pure', () => {
  it('give the same bytes for the same input', () => {
    const build = () =>
      buildTransportEnvelope({
        provider: world.sender,
        submission: prepareSubmission({ provider: world.sender, message: ORIGINAL, date: DATE }),
      });
    expect(build().equals(build())).toBe(true);
  });
});
