import { beforeAll, describe, expect, it } from 'vitest';
import { parsePec } from '../src/index.js';
import {
  buildCertifiedMessage,
  buildDaticert,
  buildTransportEnvelope,
  providerAddress,
  type Submission,
} from '../src/testkit/index.js';
import { DATE, submit, testWorld } from './fixtures.js';

let world: ReturnType<typeof testWorld>;
let submission: Submission;
let envelope: Buffer;
beforeAll(() => {
  world = testWorld();
  submission = submit(world.sender);
  envelope = buildTransportEnvelope({ provider: world.sender, submission });
});

const parse = (raw: Buffer) => parsePec(raw, { trustAnchors: world.anchors });

function daticertFor(tipo = 'posta-certificata'): Buffer {
  return buildDaticert({
    tipo,
    mittente: submission.sender,
    destinatari: submission.recipients,
    gestoreEmittente: world.sender.name,
    date: DATE,
    identificativo: submission.identificativo,
    msgid: submission.clientMessageId,
  });
}

function certified(parts: {
  daticert?: Buffer;
  extra?: Buffer[];
  header?: [string, string];
  /** X-Riferimento-Message-ID as written; the client's id by default. */
  reference?: string;
}): Buffer {
  return buildCertifiedMessage({
    provider: world.sender,
    date: DATE,
    headers: [
      ['Message-ID', `<${submission.identificativo}>`],
      parts.header ?? ['X-Trasporto', 'posta-certificata'],
      ['X-Riferimento-Message-ID', parts.reference ?? submission.clientMessageId],
      ['From', `"Per conto di: ${submission.sender}" <${providerAddress(world.sender)}>`],
      ['Subject', `POSTA CERTIFICATA: ${submission.subject}`],
    ],
    notice: 'Messaggio di posta certificata',
    postacert: submission.postacert,
    ...(parts.daticert ? { daticert: parts.daticert } : {}),
    ...(parts.extra ? { extraParts: parts.extra } : {}),
  });
}

function daticertPart(xml: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      'Content-Type: application/xml; name="daticert.xml"\r\nContent-Disposition: inline; filename="daticert.xml"\r\n\r\n',
    ),
    xml,
  ]);
}

describe('malformed input never throws and keeps what it could read', () => {
  it('an empty buffer is unparseable', async () => {
    expect(await parse(Buffer.alloc(0))).toMatchObject({
      kind: 'unparseable',
      problems: ['message is empty'],
      inner: null,
    });
  });

  it('binary garbage is unparseable', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const parsed = await parse(garbage);
    expect(parsed.kind).toBe('unparseable');
    expect(parsed.problems).toContain('message has no header fields');
  });

  it('a truncated envelope keeps its headers and says where it broke', async () => {
    const truncated = envelope.subarray(0, Math.floor(envelope.length * 0.6));
    const parsed = await parse(truncated);
    expect(parsed).toMatchObject({
      kind: 'posta-certificata',
      providerId: submission.identificativo,
      originalMessageId: submission.clientMessageId,
    });
    expect(parsed.signature.status).toBe('invalid');
    expect(parsed.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/is never closed \(truncated\?\)/)]),
    );
  });

  it('an envelope truncated inside its headers is still recorded', async () => {
    const parsed = await parse(envelope.subarray(0, 200));
    expect(parsed.problems).toContain(
      'header section is not terminated by an empty line (truncated?)',
    );
    expect(parsed.originalMessageId).toBe(submission.clientMessageId);
  });

  it('a multipart/signed without boundary is unparseable but keeps the ids', async () => {
    const text = envelope.toString('latin1');
    const noBoundary = Buffer.from(text.replace(/;\s*boundary="[^"]+"/, ''), 'latin1');
    const parsed = await parse(noBoundary);
    expect(parsed).toMatchObject({
      kind: 'unparseable',
      providerId: submission.identificativo,
      originalMessageId: submission.clientMessageId,
    });
    expect(parsed.problems).toContain(
      'multipart/signed has no boundary parameter: its parts cannot be read',
    );
  });

  it('a wrong or missing charset still yields text', async () => {
    const unknown = submit(world.sender, { text: 'Città di Ærø' });
    const withUnknown = Buffer.from(
      unknown.original.toString('latin1').replace('charset=utf-8', 'charset=x-no-such-charset'),
      'latin1',
    );
    const withoutCharset = Buffer.from(
      unknown.original.toString('latin1').replace('; charset=utf-8', ''),
      'latin1',
    );
    for (const raw of [withUnknown, withoutCharset]) {
      const parsed = await parse(raw);
      expect(parsed.kind).toBe('plain');
      expect(parsed.inner?.text).toContain('Citt');
    }
  });

  it('raw 8-bit headers are read as UTF-8, or Latin-1 when they are not UTF-8', async () => {
    const utf8 = Buffer.concat([
      Buffer.from('Subject: Pratica n° 5 – urgente\r\n', 'utf8'),
      envelope,
    ]);
    const latin1 = Buffer.concat([Buffer.from('X-Note: caffè\r\n', 'latin1'), envelope]);
    expect((await parse(utf8)).signature.status).toBe('valid');
    expect((await parse(latin1)).kind).toBe('posta-certificata');
    const inner8bit = submit(world.sender, { subject: 'x' });
    const raw = Buffer.from(
      inner8bit.original
        .toString('latin1')
        .replace('Subject: x', 'Subject: Pratica n\u00c2\u00b0 5'),
      'latin1',
    );
    expect((await parse(raw)).inner?.subject).toBe('Pratica n° 5');
  });

  it('a 1 MB header is read without losing the envelope', async () => {
    const huge = Buffer.concat([Buffer.from(`X-Huge: ${'a'.repeat(1024 * 1024)}\r\n`), envelope]);
    const parsed = await parse(huge);
    expect(parsed).toMatchObject({
      kind: 'posta-certificata',
      providerId: submission.identificativo,
      signature: { status: 'valid' },
    });
  });

  it('a 1 MB folded header is read as well', async () => {
    const folded = Array.from({ length: 16 * 1024 }, () => 'b'.repeat(62)).join('\r\n ');
    const parsed = await parse(Buffer.concat([Buffer.from(`X-Folded: ${folded}\r\n`), envelope]));
    expect(parsed.kind).toBe('posta-certificata');
  });

  it('two daticert parts: the first is used and the duplicate is reported', async () => {
    const parsed = await parse(
      certified({
        daticert: daticertFor(),
        extra: [daticertPart(daticertFor('avvenuta-consegna'))],
      }),
    );
    expect(parsed).toMatchObject({ kind: 'posta-certificata', signature: { status: 'valid' } });
    expect(parsed.problems).toContain('2 daticert.xml parts: the first one is used');
  });

  it('a daticert with an external DOCTYPE and a stylesheet, as providers write it, is read', async () => {
    const xml = daticertFor('avvenuta-consegna')
      .toString('utf8')
      .replace(
        '?>\r\n',
        '?>\r\n<?xml-stylesheet type="text/xsl" href="https://gestore.test/dtd/postacert.xsl"?>\r\n' +
          '<!DOCTYPE postacert PUBLIC "posta certificata" "https://gestore.test/dtd/postacert.dtd">\r\n',
      );
    expect(xml).toContain('<!DOCTYPE postacert PUBLIC');
    const parsed = await parse(
      certified({ daticert: Buffer.from(xml), header: ['X-Ricevuta', 'avvenuta-consegna'] }),
    );
    expect(parsed).toMatchObject({
      kind: 'avvenuta-consegna',
      certData: { tipo: 'avvenuta-consegna', identificativo: submission.identificativo },
      event: { type: 'delivered' },
      signature: { status: 'valid' },
      problems: [],
    });
  });

  it('a DOCTYPE with an internal subset in daticert is refused and no entity is expanded', async () => {
    const bomb = Buffer.from(
      '<?xml version="1.0"?>\n<!DOCTYPE postacert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<postacert tipo="accettazione" errore="nessuno"><intestazione><mittente>&b;</mittente></intestazione></postacert>',
    );
    const parsed = await parse(certified({ daticert: bomb }));
    expect(parsed).toMatchObject({
      kind: 'posta-certificata',
      certData: null,
      providerId: submission.identificativo,
    });
    expect(parsed.problems).toContain('daticert.xml declares a DOCTYPE or ENTITY: refused');
  });

  it('a transport envelope without daticert says so', async () => {
    const parsed = await parse(certified({}));
    expect(parsed).toMatchObject({ kind: 'posta-certificata', certData: null });
    expect(parsed.problems).toContain('daticert.xml is missing');
  });

  it('daticert wins over headers that disagree, and the disagreement is reported', async () => {
    const parsed = await parse(
      certified({
        daticert: daticertFor('avvenuta-consegna'),
        header: ['X-Ricevuta', 'accettazione'],
      }),
    );
    expect(parsed.kind).toBe('avvenuta-consegna');
    expect(parsed.problems).toContain(
      'headers say accettazione but daticert tipo is avvenuta-consegna: daticert is used',
    );
  });

  it('an empty X-Riferimento-Message-ID gives way to daticert msgid', async () => {
    const parsed = await parse(certified({ daticert: daticertFor(), reference: '' }));
    expect(parsed.originalMessageId).toBe(submission.clientMessageId);
    expect(parsed.problems).toEqual([]);
  });

  it('a comment after the X-Riferimento-Message-ID msg-id is not part of it', async () => {
    const reference = `${submission.clientMessageId} (Outlook)`;
    const withoutDaticert = await parse(certified({ reference }));
    expect(withoutDaticert.originalMessageId).toBe(submission.clientMessageId);
    const agreeing = await parse(certified({ daticert: daticertFor(), reference }));
    expect(agreeing.originalMessageId).toBe(submission.clientMessageId);
    expect(agreeing.problems).toEqual([]);
  });

  it('signed daticert msgid wins over an X-Riferimento-Message-ID that disagrees', async () => {
    const parsed = await parse(
      certified({ daticert: daticertFor(), reference: '<rewritten@relay.test>' }),
    );
    expect(parsed.originalMessageId).toBe(submission.clientMessageId);
    expect(parsed.problems).toEqual([
      `X-Riferimento-Message-ID <rewritten@relay.test> differs from the signed daticert msgid ${submission.clientMessageId}: daticert msgid is used`,
    ]);
  });

  it('daticert that is not XML is reported and the header kind kept', async () => {
    const parsed = await parse(
      certified({ daticert: Buffer.from('<postacert tipo="x"><dati></postacert>') }),
    );
    expect(parsed).toMatchObject({ kind: 'posta-certificata', certData: null });
    expect(parsed.problems.some((p) => p.startsWith('daticert.xml is not well-formed XML'))).toBe(
      true,
    );
  });

  it('a certified message that is not signed is recorded as unsigned with a problem', async () => {
    const text = envelope.toString('latin1');
    const boundary = /boundary="([^"]+)"/.exec(text)?.[1] ?? '';
    const signedStart = text.indexOf(`--${boundary}\r\n`) + boundary.length + 4;
    const signedEnd = text.indexOf(`\r\n--${boundary}\r\n`, signedStart);
    const headers = text.slice(0, text.indexOf('Content-Type: multipart/signed'));
    const unsigned = Buffer.from(headers + text.slice(signedStart, signedEnd), 'latin1');
    const parsed = await parse(unsigned);
    expect(parsed).toMatchObject({
      kind: 'posta-certificata',
      signature: { status: 'unsigned' },
      certData: { identificativo: submission.identificativo },
    });
    expect(parsed.problems).toContain('certified message is not signed');
  });
});
