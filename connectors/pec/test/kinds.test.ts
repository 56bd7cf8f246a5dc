import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePec, type PecEnvelope } from '../src/index.js';
import {
  buildAnomalyEnvelope,
  buildReceipt,
  buildRemMessage,
  buildTransportEnvelope,
  forwardMessage,
  prepareSubmission,
  wrapForMailingList,
  type ReceiptKind,
} from '../src/testkit/index.js';
import { DATE, ORIGINAL, submit, testWorld } from './fixtures.js';

let world: ReturnType<typeof testWorld>;
beforeAll(() => {
  world = testWorld();
});

const parse = (raw: Buffer) => parsePec(raw, { trustAnchors: world.anchors });

describe('transport envelope', () => {
  it('yields the provider id, the client id, daticert and the original message', async () => {
    const submission = submit(world.sender);
    const envelope = await parse(buildTransportEnvelope({ provider: world.sender, submission }));
    expect(envelope).toMatchObject({
      kind: 'posta-certificata',
      profile: 'PEC-2005',
      providerId: submission.identificativo,
      originalMessageId: '<client-1234@mail.mittente.test>',
      receiptType: null,
      event: null,
      nested: null,
      problems: [],
      signature: {
        status: 'valid',
        algorithm: 'sha1',
        signer: { email: 'posta-certificata@pec.mittente.test' },
      },
    });
    expect(envelope.certData).toEqual({
      tipo: 'posta-certificata',
      errore: 'nessuno',
      mittente: 'mario.rossi@pec.mittente.test',
      destinatari: [
        { address: 'protocollo@pec.comune.test', tipo: 'certificato' },
        { address: 'ragioneria@pec.comune.test', tipo: 'certificato' },
      ],
      risposte: 'mario.rossi@pec.mittente.test',
      oggetto: 'Richiesta di accesso agli atti',
      gestoreEmittente: 'Gestore Mittente S.p.A.',
      data: '2026-11-26T09:15:30.000Z',
      identificativo: submission.identificativo,
      msgid: '<client-1234@mail.mittente.test>',
      ricevuta: null,
      consegna: null,
      ricezione: [],
      erroreEsteso: null,
    });
    expect(envelope.inner).toMatchObject({
      subject: 'Richiesta di accesso agli atti',
      from: { address: 'mario.rossi@pec.mittente.test' },
      to: [{ address: 'protocollo@pec.comune.test' }],
      cc: [{ address: 'ragioneria@pec.comune.test' }],
      messageId: `<${submission.identificativo}>`,
      date: '2026-11-26T09:15:30.000Z',
      text: 'Buongiorno,\nchiedo copia della delibera n. 12/2026.\nCordiali saluti\n',
    });
    const pdf = Buffer.from('%PDF-1.4\n% domanda\n');
    expect(envelope.inner?.attachments).toEqual([
      {
        filename: 'domanda.pdf',
        contentType: 'application/pdf',
        charset: null,
        size: pdf.length,
        sha256: createHash('sha256').update(pdf).digest('hex'),
      },
    ]);
  });

  it('reads daticert before postacert.eml as well, and sha256 signatures', async () => {
    const submission = submit(world.receiver);
    const envelope = await parse(
      buildTransportEnvelope({ provider: world.receiver, submission, daticertFirst: true }),
    );
    expect(envelope).toMatchObject({
      kind: 'posta-certificata',
      providerId: submission.identificativo,
      signature: { status: 'valid', algorithm: 'sha256' },
    });
    expect(envelope.inner?.subject).toBe('Richiesta di accesso agli atti');
  });

  it('keeps the html part of the original and external recipients from daticert', async () => {
    const submission = prepareSubmission({
      provider: world.sender,
      date: DATE,
      message: { ...ORIGINAL, html: '<p>Buongiorno</p>' },
      recipients: [
        { address: 'protocollo@pec.comune.test' },
        { address: 'privato@gmail.test', tipo: 'esterno' },
      ],
    });
    const envelope = await parse(buildTransportEnvelope({ provider: world.sender, submission }));
    expect(envelope.inner?.html).toContain('<p>Buongiorno</p>');
    expect(envelope.certData?.destinatari).toContainEqual({
      address: 'privato@gmail.test',
      tipo: 'esterno',
    });
  });
});

describe('anomaly envelope', () => {
  it('is kind anomalia with no daticert and no problem for its absence', async () => {
    const raw = buildAnomalyEnvelope({
      provider: world.receiver,
      message: { ...ORIGINAL, from: 'someone@gmail.test' },
      date: DATE,
    });
    const envelope = await parse(raw);
    expect(envelope).toMatchObject({
      kind: 'anomalia',
      profile: 'PEC-2005',
      certData: null,
      originalMessageId: '<client-1234@mail.mittente.test>',
      event: { type: 'anomaly', evidence: 'anomalia' },
      signature: { status: 'valid' },
      problems: [],
    });
    expect(envelope.providerId).toMatch(/@pec\.comune\.test$/);
    expect(envelope.inner).toMatchObject({
      from: { address: 'someone@gmail.test' },
      messageId: '<client-1234@mail.mittente.test>',
    });
  });
});

interface ReceiptCase {
  kind: ReceiptKind;
  virus?: boolean;
  event: string;
  errore: string;
  subjectPrefix: string;
}

const RECEIPT_CASES: ReceiptCase[] = [
  { kind: 'accettazione', event: 'accepted', errore: 'nessuno', subjectPrefix: 'ACCETTAZIONE: ' },
  {
    kind: 'non-accettazione',
    event: 'failed',
    errore: 'altro',
    subjectPrefix: 'AVVISO DI NON ACCETTAZIONE: ',
  },
  {
    kind: 'non-accettazione',
    virus: true,
    event: 'failed',
    errore: 'virus',
    subjectPrefix: 'AVVISO DI NON ACCETTAZIONE PER VIRUS: ',
  },
  {
    kind: 'presa-in-carico',
    event: 'relayed',
    errore: 'nessuno',
    subjectPrefix: 'PRESA IN CARICO: ',
  },
  {
    kind: 'errore-consegna',
    event: 'failed',
    errore: 'no-dest',
    subjectPrefix: 'AVVISO DI MANCATA CONSEGNA: ',
  },
  {
    kind: 'errore-consegna',
    virus: true,
    event: 'failed',
    errore: 'virus',
    subjectPrefix: 'AVVISO DI MANCATA CONSEGNA PER VIRUS: ',
  },
  {
    kind: 'preavviso-errore-consegna',
    event: 'timeout',
    errore: 'nessuno',
    subjectPrefix: 'AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: ',
  },
  {
    kind: 'rilevazione-virus',
    event: 'failed',
    errore: 'virus',
    subjectPrefix: 'PROBLEMA DI SICUREZZA: ',
  },
];

describe('receipts', () => {
  it.each(RECEIPT_CASES)(
    '$kind (virus: $virus) is classified, correlated and normalised',
    async (c) => {
      const submission = submit(world.sender);
      const raw = buildReceipt({
        provider: world.sender,
        submission,
        kind: c.kind,
        ...(c.virus ? { virus: true } : {}),
      });
      const header = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');
      expect(header).toContain(`Subject: ${c.subjectPrefix}`);
      expect(header.includes('X-VerificaSicurezza: errore')).toBe(c.virus === true);
      const envelope = await parse(raw);
      expect(envelope).toMatchObject({
        kind: c.kind,
        profile: 'PEC-2005',
        originalMessageId: '<client-1234@mail.mittente.test>',
        certData: { tipo: c.kind, errore: c.errore, identificativo: submission.identificativo },
        event: { type: c.event, evidence: c.kind, at: '2026-11-26T09:15:30.000Z' },
        signature: { status: 'valid' },
        inner: null,
        problems: [],
      });
      expect(envelope.providerId).not.toBe(submission.identificativo);
      expect(envelope.providerId).toMatch(
        new RegExp(`^${c.kind}\\.[0-9a-f]+@pec\\.mittente\\.test$`),
      );
    },
  );

  it('non-delivery names the recipient and the extended error', async () => {
    const submission = submit(world.receiver);
    const raw = buildReceipt({
      provider: world.receiver,
      submission,
      kind: 'errore-consegna',
      recipient: 'ragioneria@pec.comune.test',
      erroreEsteso: '5.1.1 - Gestore Comune - casella inesistente',
    });
    expect((await parse(raw)).event).toEqual({
      type: 'failed',
      evidence: 'errore-consegna',
      recipients: ['ragioneria@pec.comune.test'],
      external: [],
      at: '2026-11-26T09:15:30.000Z',
      reason: '5.1.1 - Gestore Comune - casella inesistente',
    });
  });

  it('rilevazione-virus carries X-Mittente', async () => {
    const raw = buildReceipt({
      provider: world.receiver,
      submission: submit(world.sender),
      kind: 'rilevazione-virus',
    });
    expect(raw.toString('latin1')).toContain('X-Mittente: mario.rossi@pec.mittente.test');
    expect((await parse(raw)).certData?.erroreEsteso).toMatch(/virus/);
  });

  it('presa-in-carico lists the recipients taken in charge', async () => {
    const raw = buildReceipt({
      provider: world.receiver,
      submission: submit(world.sender),
      kind: 'presa-in-carico',
      ricezione: ['protocollo@pec.comune.test'],
    });
    const envelope = await parse(raw);
    expect(envelope.certData?.ricezione).toEqual(['protocollo@pec.comune.test']);
    expect(envelope.event?.recipients).toEqual(['protocollo@pec.comune.test']);
  });
});

describe('delivery receipts', () => {
  async function delivery(
    receiptType: 'completa' | 'breve' | 'sintetica',
    recipient = 'protocollo@pec.comune.test',
  ): Promise<PecEnvelope> {
    const submission = submit(world.sender);
    return parse(
      buildReceipt({
        provider: world.receiver,
        submission,
        kind: 'avvenuta-consegna',
        receiptType,
        recipient,
      }),
    );
  }

  it('completa carries the whole original', async () => {
    const envelope = await delivery('completa');
    expect(envelope).toMatchObject({
      kind: 'avvenuta-consegna',
      receiptType: 'completa',
      certData: { ricevuta: 'completa', consegna: 'protocollo@pec.comune.test' },
      event: { type: 'delivered', recipients: ['protocollo@pec.comune.test'] },
      signature: { status: 'valid', algorithm: 'sha256' },
      problems: [],
    });
    expect(envelope.inner?.attachments.map((a) => a.filename)).toEqual(['domanda.pdf']);
  });

  it('breve replaces each attachment by <filename>.hash with its SHA-1', async () => {
    const envelope = await delivery('breve');
    expect(envelope.receiptType).toBe('breve');
    const sha1 = createHash('sha1').update(Buffer.from('%PDF-1.4\n% domanda\n')).digest('hex');
    expect(envelope.inner?.attachments).toMatchObject([
      { filename: 'domanda.pdf.hash', hashOf: { filename: 'domanda.pdf', sha1 } },
    ]);
    expect(envelope.inner?.text).toContain('delibera n. 12/2026');
  });

  it('sintetica carries no original', async () => {
    const envelope = await delivery('sintetica');
    expect(envelope).toMatchObject({
      kind: 'avvenuta-consegna',
      receiptType: 'sintetica',
      inner: null,
      problems: [],
    });
  });

  it('a cc recipient always gets sintetica', async () => {
    const submission = submit(world.sender);
    const raw = buildReceipt({
      provider: world.receiver,
      submission,
      kind: 'avvenuta-consegna',
      recipient: 'ragioneria@pec.comune.test',
    });
    expect(await parse(raw)).toMatchObject({ receiptType: 'sintetica', inner: null });
  });
});

describe('REM', () => {
  it.each([
    ['SubmissionAcceptance', 'accepted'],
    ['RelayAcceptance', 'relayed'],
    ['ContentConsignment', 'delivered'],
    ['ContentConsignmentFailure', 'failed'],
    ['AcceptanceByRecipient', 'delivered'],
    ['ConsignmentNotificationFailure', 'failed'],
    ['RelayToNonERDS', 'relayed'],
    ['RelayToNonERDSFailure', 'failed'],
    ['ReceivedFromNonERDS', 'anomaly'],
  ])('%s evidence is profile REM with event %s', async (evidence, type) => {
    const submission = submit(world.sender);
    const raw = buildRemMessage({
      provider: world.sender,
      submission,
      evidence,
      ...(type === 'failed' ? { reason: { code: 'RD04', details: 'mailbox full' } } : {}),
    });
    const envelope = await parse(raw);
    expect(envelope).toMatchObject({
      kind: evidence,
      profile: 'REM',
      certData: null,
      originalMessageId: '<client-1234@mail.mittente.test>',
      signature: { status: 'valid' },
      event: {
        type,
        evidence,
        recipients: ['protocollo@pec.comune.test', 'ragioneria@pec.comune.test'],
        at: '2026-11-26T09:15:30.000Z',
        reason: type === 'failed' ? 'RD04 - mailbox full' : null,
      },
      problems: [],
    });
  });

  it('a REM dispatch carries the original message', async () => {
    const raw = buildRemMessage({
      provider: world.sender,
      submission: submit(world.sender),
      evidence: 'ContentConsignment',
      includeOriginal: true,
    });
    expect((await parse(raw)).inner?.subject).toBe('Richiesta di accesso agli atti');
  });

  it('an unknown evidence keeps its name in problems and yields no event', async () => {
    const raw = buildRemMessage({
      provider: world.sender,
      submission: submit(world.sender),
      evidence: 'SomethingNew',
    });
    const envelope = await parse(raw);
    expect(envelope).toMatchObject({ kind: 'rem-message', profile: 'REM', event: null });
    expect(envelope.problems).toContain(
      'REM evidence type "SomethingNew" is not known: no event derived',
    );
  });

  it('a signed PEC delivery receipt that also carries a REM-* header field keeps its signed daticert event', async () => {
    const submission = submit(world.sender);
    const receipt = buildReceipt({
      provider: world.receiver,
      submission,
      kind: 'avvenuta-consegna',
      recipient: 'protocollo@pec.comune.test',
    });
    // A header field anyone on the way may add (outside the signature: it still verifies).
    const raw = Buffer.concat([Buffer.from('REM-Gateway: pec-rem-interop.example\r\n'), receipt]);
    const envelope = await parse(raw);
    expect(envelope.signature.status).toBe('valid');
    expect(envelope).toMatchObject({
      kind: 'avvenuta-consegna',
      profile: 'PEC-2005',
      originalMessageId: '<client-1234@mail.mittente.test>',
      event: { type: 'delivered', recipients: ['protocollo@pec.comune.test'] },
    });
  });

  it('a REM-* header field alone, with nothing signed and no PEC field, still makes a REM message', async () => {
    const raw = Buffer.from(
      'Message-ID: <rem.bare@rem.test>\r\nREM-UAMessageIdentifier: <client-1234@mail.mittente.test>\r\n' +
        'Subject: REM\r\nContent-Type: text/plain\r\n\r\nRegistered Electronic Mail\r\n',
    );
    const envelope = await parse(raw);
    expect(envelope).toMatchObject({
      kind: 'rem-message',
      profile: 'REM',
      originalMessageId: '<client-1234@mail.mittente.test>',
      event: null,
    });
    expect(envelope.problems).toContain('REM message carries no evidence section');
  });
});

describe('wrapped and forwarded envelopes', () => {
  it.each(['footer', 'attachment'] as const)(
    'a mailing list copy (%s style) still verifies on its exact signed bytes',
    async (style) => {
      const submission = submit(world.sender);
      const raw = wrapForMailingList(
        buildTransportEnvelope({ provider: world.sender, submission }),
        { listId: '<protocollo.comune.test>', listAddress: 'protocollo@liste.comune.test', style },
      );
      const envelope = await parse(raw);
      expect(envelope).toMatchObject({
        kind: 'posta-certificata',
        providerId: submission.identificativo,
        signature: { status: 'valid' },
        problems: [],
      });
      expect(envelope.inner?.subject).toBe('Richiesta di accesso agli atti');
    },
  );

  it('plain mail from a person attaching an envelope stays plain, with the envelope nested', async () => {
    const envelope = buildTransportEnvelope({
      provider: world.sender,
      submission: submit(world.sender),
    });
    const raw = prepareSubmission({
      provider: world.sender,
      date: DATE,
      message: forwardMessage(envelope, { from: 'collega@gmail.test', to: ['me@gmail.test'] }),
    }).original;
    const parsed = await parse(raw);
    expect(parsed).toMatchObject({
      kind: 'plain',
      profile: 'plain',
      signature: { status: 'unsigned' },
      nested: { kind: 'posta-certificata' },
    });
    expect(parsed.inner?.attachments).toMatchObject([
      { filename: 'postacert-inoltrata.eml', contentType: 'message/rfc822' },
    ]);
  });

  it('a forward nested 5 deep is parsed to the bottom, each level verified', async () => {
    let raw = buildTransportEnvelope({
      provider: world.sender,
      submission: submit(world.sender, { subject: 'livello 1' }),
    });
    for (let level = 2; level <= 5; level += 1) {
      const message = forwardMessage(raw, {
        from: `ufficio${level}@pec.mittente.test`,
        to: ['archivio@pec.comune.test'],
        subject: `livello ${level}`,
        date: DATE,
      });
      raw = buildTransportEnvelope({
        provider: world.sender,
        submission: prepareSubmission({ provider: world.sender, date: DATE, message }),
      });
    }
    const subjects: string[] = [];
    for (
      let envelope: PecEnvelope | null = await parse(raw);
      envelope;
      envelope = envelope.nested
    ) {
      expect(envelope).toMatchObject({
        kind: 'posta-certificata',
        signature: { status: 'valid' },
        problems: [],
      });
      subjects.push(envelope.inner?.subject ?? '');
    }
    expect(subjects).toEqual(['livello 5', 'livello 4', 'livello 3', 'livello 2', 'livello 1']);
  });

  it('bounds the recursion with maxDepth and says so', async () => {
    let raw = buildTransportEnvelope({ provider: world.sender, submission: submit(world.sender) });
    for (let level = 2; level <= 5; level += 1) {
      raw = buildTransportEnvelope({
        provider: world.sender,
        submission: prepareSubmission({
          provider: world.sender,
          date: DATE,
          message: forwardMessage(raw, { from: 'a@pec.mittente.test', to: ['b@pec.comune.test'] }),
        }),
      });
    }
    const envelope = await parsePec(raw, { trustAnchors: world.anchors, maxDepth: 2 });
    expect(envelope.nested?.nested?.nested).toBeNull();
    expect(envelope.nested?.nested?.problems).toContain(
      'forwarded certified message nested deeper than maxDepth: not parsed',
    );
  });
});

describe('plain mail', () => {
  it('is kind plain, unsigned, with the message as inner', async () => {
    const raw = prepareSubmission({
      provider: world.sender,
      date: DATE,
      message: ORIGINAL,
    }).original;
    expect(await parse(raw)).toMatchObject({
      kind: 'plain',
      profile: 'plain',
      providerId: 'client-1234@mail.mittente.test',
      originalMessageId: null,
      signature: { status: 'unsigned' },
      inner: {
        subject: 'Richiesta di accesso agli atti',
        messageId: '<client-1234@mail.mittente.test>',
      },
      problems: [],
    });
  });
});
