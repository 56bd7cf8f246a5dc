import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDaticert } from '../src/daticert/parse.js';
import { originalAttachment, parsePec } from '../src/index.js';
import {
  buildCertifiedMessage,
  buildDaticert,
  prepareSubmission,
  providerAddress,
  seededRandom,
  type Submission,
} from '../src/testkit/index.js';
import { writePart } from '../src/testkit/mime.js';
import { readXml } from '../src/xml/reader.js';
import { DATE, mixedMessage, submit, testWorld } from './fixtures.js';

/*
 * Inputs that are valid, or that real gateways send, which the parser once refused or cut short:
 * white space around an attribute's `=`, namespace-prefixed daticert elements, base64 written as
 * several separately padded chunks. Built with the testkit (real signatures), then written as
 * those writers do.
 */

let world: ReturnType<typeof testWorld>;
beforeAll(() => {
  world = testWorld();
});

function daticertOf(submission: Submission, tipo = 'posta-certificata'): Buffer {
  return buildDaticert({
    tipo,
    mittente: submission.sender,
    destinatari: [...submission.recipients, { address: 'ufficio@mail.test', tipo: 'esterno' }],
    oggetto: submission.subject,
    gestoreEmittente: world.sender.name,
    date: DATE,
    identificativo: submission.identificativo,
    msgid: submission.clientMessageId,
  });
}

/** A transport envelope of `submission` whose daticert.xml is `daticert`, or the part given. */
function envelope(submission: Submission, daticert: Buffer | { part: Buffer }): Buffer {
  return buildCertifiedMessage({
    provider: world.sender,
    date: DATE,
    headers: [
      ['X-Riferimento-Message-ID', submission.clientMessageId],
      ['X-Trasporto', 'posta-certificata'],
      ['Message-ID', `<${submission.identificativo}>`],
      ['From', `"Per conto di: ${submission.sender}" <${providerAddress(world.sender)}>`],
      ['Subject', `POSTA CERTIFICATA: ${submission.subject}`],
    ],
    notice: 'Messaggio di posta certificata',
    postacert: submission.postacert,
    ...(Buffer.isBuffer(daticert) ? { daticert } : { extraParts: [daticert.part] }),
  });
}

const read = (bytes: Buffer) => {
  const problems: string[] = [];
  return { cert: parseDaticert(bytes, problems), problems };
};

const edit = (bytes: Buffer, change: (text: string) => string) =>
  Buffer.from(change(bytes.toString('utf8')), 'utf8');

describe('daticert.xml attributes with white space around = (XML 1.0 Eq ::= S? = S?)', () => {
  const loose = (text: string) =>
    text
      .replace('version="1.0"', 'version = "1.0"')
      .replace(/<postacert tipo="([^"]*)" errore="/, '<postacert tipo = "$1"\r\n  errore= "')
      .replace('<data zona="', '<data zona\t=\t"')
      .replace(/<destinatari tipo="esterno"/, '<destinatari tipo\r\n=\r\n"esterno"');

  it('are read as if written tight', async () => {
    const submission = submit(world.sender);
    const tight = daticertOf(submission);
    const daticert = edit(tight, loose);
    expect(daticert.toString('utf8')).toContain('<postacert tipo = "posta-certificata"');
    expect(read(daticert)).toEqual(read(tight));
    expect(read(daticert).problems).toEqual([]);
    const parsed = await parsePec(envelope(submission, daticert), { trustAnchors: world.anchors });
    expect(parsed).toMatchObject({
      kind: 'posta-certificata',
      certData: { tipo: 'posta-certificata', identificativo: submission.identificativo },
      signature: { status: 'valid' },
      problems: [],
    });
  });

  it('leave values, text, comments and CDATA as written, and still refuse an unquoted value', () => {
    const tree = readXml(
      '<a x = "p = q" y= \'r\'><!-- c = "d" --><b><![CDATA[ e = "f" ]]></b> g = "h" </a>',
      new Set(),
    );
    expect(tree).toEqual({
      a: { '@': { x: 'p = q', y: 'r' }, b: ' e = "f" ', '#text': 'g = "h"' },
    });
    expect(() => readXml('<a x = 1/>', new Set())).toThrow(/missing attribute value/);
    expect(() => readXml('<a x = "1"y = "2"/>', new Set())).toThrow(/after attribute end/);
  });

  it('do not let a DOCTYPE or ENTITY through', () => {
    const text = daticertOf(submit(world.sender)).toString('utf8');
    for (const declaration of [
      '<!DOCTYPE postacert [<!ENTITY a "b">]>',
      '<!DOCTYPE postacert SYSTEM = "Postacert.dtd">',
    ]) {
      const { cert, problems } = read(
        Buffer.from(loose(text.replace('?>\r\n', `?>\r\n${declaration}\r\n`))),
      );
      expect(cert).toBeNull();
      expect(problems).toEqual(['daticert.xml declares a DOCTYPE or ENTITY: refused']);
    }
  });
});

describe('daticert.xml with a namespace prefix on its elements', () => {
  const prefixed = (text: string, prefix = 'p') =>
    text
      .replace(/<(\/?)([a-z-]+)/g, `<$1${prefix}:$2`)
      .replace(
        `<${prefix}:postacert `,
        `<${prefix}:postacert xmlns:${prefix}="urn:x-test:postacert" `,
      );

  it('is read by local name, through parsePec too', async () => {
    const submission = submit(world.sender);
    const plain = daticertOf(submission);
    const daticert = edit(plain, prefixed);
    expect(daticert.toString('utf8')).toContain('<p:intestazione>');
    expect(read(daticert)).toEqual(read(plain));
    expect(read(daticert).problems).toEqual([]);
    const parsed = await parsePec(envelope(submission, daticert), { trustAnchors: world.anchors });
    expect(parsed).toMatchObject({
      kind: 'posta-certificata',
      certData: {
        tipo: 'posta-certificata',
        mittente: submission.sender,
        data: DATE.toISOString(),
        identificativo: submission.identificativo,
        msgid: submission.clientMessageId,
      },
      signature: { status: 'valid' },
      problems: [],
    });
  });

  it('reads no element under another local name', () => {
    const daticert = edit(daticertOf(submit(world.sender)), prefixed);
    const renamedRoot = edit(daticert, (text) => text.replace(/p:postacert\b/g, 'p:postacerta'));
    expect(read(renamedRoot)).toEqual({
      cert: null,
      problems: ['daticert.xml has no <postacert> root element'],
    });
    const renamedChild = edit(daticert, (text) => text.replace(/p:mittente>/g, 'p:mittenti>'));
    expect(read(renamedChild)).toMatchObject({ cert: { mittente: null }, problems: [] });
  });
});

describe('base64 written as several separately padded chunks', () => {
  /** As some gateways write it: each `block` bytes encoded, and padded, on a line of their own. */
  const paddedBlocks = (content: Buffer, block: number) => {
    const lines: string[] = [];
    for (let at = 0; at < content.length; at += block)
      lines.push(content.subarray(at, at + block).toString('base64'));
    return lines.join('\r\n');
  };
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  const randomBytes = (length: number, seed: number) => {
    const random = seededRandom(seed);
    return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
  };
  const attachmentPart = (filename: string, content: Buffer) => ({
    headers: [
      `Content-Type: application/octet-stream; name="${filename}"`,
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="${filename}"`,
    ].join('\r\n'),
    body: paddedBlocks(content, 56),
  });
  // One under the outline's 64 KB decoding slice, one decoded over several slices.
  const small = randomBytes(5_000, 1);
  const large = randomBytes(200_000, 2);

  function withAttachments(): Buffer {
    const original = mixedMessage(
      [
        'From: mario.rossi@pec.mittente.test',
        'To: protocollo@pec.comune.test',
        'Subject: Domanda con allegati',
        'Date: Thu, 26 Nov 2026 10:15:30 +0100',
        'Message-ID: <client-9@mail.mittente.test>',
      ],
      [
        { headers: 'Content-Type: text/plain; charset=utf-8', body: 'In allegato la domanda.' },
        attachmentPart('domanda.pdf', small),
        attachmentPart('allegato.bin', large),
      ],
    );
    expect(original.toString('latin1')).toMatch(/=\r\n[A-Za-z0-9+/]/);
    const submission = prepareSubmission({ provider: world.sender, message: original, date: DATE });
    return envelope(submission, daticertOf(submission));
  }

  it('a daticert.xml part is read whole', async () => {
    const submission = submit(world.sender);
    const daticert = daticertOf(submission);
    const part = writePart({
      headers: [
        ['Content-Type', 'application/xml; name="daticert.xml"'],
        ['Content-Transfer-Encoding', 'base64'],
        ['Content-Disposition', 'inline; filename="daticert.xml"'],
      ],
      body: paddedBlocks(daticert, 56) + '\r\n',
    });
    const parsed = await parsePec(envelope(submission, { part }), { trustAnchors: world.anchors });
    expect(parsed).toMatchObject({
      kind: 'posta-certificata',
      certData: read(daticert).cert!,
      signature: { status: 'valid' },
      problems: [],
    });
  });

  it.each(['full', 'outline'] as const)(
    'attachments are listed whole by the %s reading',
    async (inner) => {
      const parsed = await parsePec(withAttachments(), { trustAnchors: world.anchors, inner });
      expect(parsed.problems).toEqual([]);
      expect(parsed.inner?.attachments).toEqual([
        expect.objectContaining({ filename: 'domanda.pdf', size: 5_000, sha256: sha256(small) }),
        expect.objectContaining({ filename: 'allegato.bin', size: 200_000, sha256: sha256(large) }),
      ]);
    },
  );

  it('attachments are given whole by originalAttachment', () => {
    const raw = withAttachments();
    const whole = (index: number) =>
      Buffer.concat([...(originalAttachment(raw, index)?.chunks ?? [])]);
    expect(sha256(whole(0))).toBe(sha256(small));
    expect(sha256(whole(1))).toBe(sha256(large));
  });
});
