import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mixedMessage } from '../../test/fixtures.js';
import { loadTrustAnchors } from '../signature/anchors.js';
import { buildCorpus, createTestCa } from '../testkit/index.js';
import { readInnerOutline } from './outline.js';
import { parsePec } from './parse.js';
import type { PecEnvelope } from './types.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const HEADER_FIELDS = [
  'From: =?UTF-8?Q?Mario_Rossi_=C3=A8?= <mario.rossi@mittente.pec.test>',
  'To: protocollo@comune.pec.test, Ufficio Tributi <tributi@comune.pec.test>',
  'Cc: Revisori: a@revisori.test, b@revisori.test;',
  'Subject: =?UTF-8?B?SXN0YW56YSDDqCB1cmdlbnRl?=',
  'Date: Thu, 01 Oct 2026 10:00:00 +0200 (CEST)',
  'Message-ID: <istanza-1@mittente.pec.test>',
];

const message = (parts: Array<{ headers: string; body: string }>) =>
  mixedMessage(HEADER_FIELDS, parts);

/** Comparable without the bodies, which only the full reading decodes. */
function withoutBodies(envelope: PecEnvelope): unknown {
  const strip = (e: PecEnvelope | null): unknown =>
    e && {
      ...e,
      inner: e.inner && { ...e.inner, text: undefined, html: undefined },
      nested: strip(e.nested),
    };
  return strip(envelope);
}

describe('readInnerOutline', () => {
  it('reads header fields and lists attachments with their decoded size and SHA-256', () => {
    // 75-character lines: slices of a large body do not fall on 4-character groups.
    const pdf = randomBytes(3 * 1024 * 1024 + 5);
    const odd = pdf.toString('base64').replace(/.{75}/g, '$&\r\n');
    const note = Buffer.from('Tariffa: 10 €, scadenza = 30 giorni\r\n', 'utf8');
    const problems: string[] = [];
    const { inner, attachesMessages } = readInnerOutline(
      message([
        { headers: 'Content-Type: text/plain; charset=utf-8', body: 'Chiedo copia.' },
        {
          headers:
            'Content-Type: application/pdf; name="domanda.pdf"\r\nContent-Disposition: attachment; filename="domanda.pdf"\r\nContent-Transfer-Encoding: base64',
          body: odd,
        },
        {
          headers:
            'Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename="nota.txt"\r\nContent-Transfer-Encoding: quoted-printable',
          body: 'Tariffa: 10 =E2=82=AC, scadenza =3D 30 giorni',
        },
        {
          headers: 'Content-Type: message/rfc822; name="inoltro.eml"',
          body: 'Subject: inoltro\r\n\r\ntesto',
        },
      ]),
      problems,
    );
    expect(problems).toEqual([]);
    expect(inner).toMatchObject({
      subject: 'Istanza è urgente',
      from: { address: 'mario.rossi@mittente.pec.test', name: 'Mario Rossi è' },
      to: [
        { address: 'protocollo@comune.pec.test', name: '' },
        { address: 'tributi@comune.pec.test', name: 'Ufficio Tributi' },
      ],
      cc: [
        { address: 'a@revisori.test', name: '' },
        { address: 'b@revisori.test', name: '' },
      ],
      date: '2026-10-01T08:00:00.000Z',
      messageId: '<istanza-1@mittente.pec.test>',
    });
    expect(inner?.text).toBeUndefined();
    expect(inner?.attachments).toEqual([
      {
        filename: 'domanda.pdf',
        contentType: 'application/pdf',
        charset: null,
        size: pdf.length,
        sha256: sha256(pdf),
      },
      {
        filename: 'nota.txt',
        contentType: 'text/plain',
        charset: 'utf-8',
        size: note.length - 2,
        sha256: sha256(note.subarray(0, note.length - 2)),
      },
      expect.objectContaining({ filename: 'inoltro.eml', contentType: 'message/rfc822' }),
    ]);
    expect(attachesMessages).toBe(true);
  });

  it('decodes large base64 bodies exactly whatever their line shape', () => {
    const pdf = randomBytes(700 * 1024 + 2);
    const base64 = pdf.toString('base64');
    const lines = (text: string, width: number, end = '\r\n') =>
      text.replace(new RegExp(`.{${width}}`, 'g'), `$&${end}`);
    const withStray = (text: string, at: number, stray: string) =>
      text.slice(0, at) + stray + text.slice(at);
    const bodies = {
      'standard 76-character lines': lines(base64, 76),
      'bare LF line ends': lines(base64, 76, '\n'),
      'a stray space half way': withStray(lines(base64, 76), 400_000, ' '),
      'a stray byte at a slice edge': withStray(lines(base64, 76), 65_000, '\u00e9'),
      'padding inside (two blocks joined)': lines(
        pdf.subarray(0, 100_001).toString('base64') + pdf.subarray(100_001).toString('base64'),
        76,
      ),
      'one long line': base64,
      '72-character lines then 76':
        lines(base64.slice(0, 300_000), 72) + lines(base64.slice(300_000), 76),
    };
    for (const [shape, body] of Object.entries(bodies)) {
      // Line breaks and stray bytes are skipped; padding ends a block, the next decodes on its own.
      const { inner } = readInnerOutline(
        message([
          {
            headers:
              'Content-Type: application/pdf; name="a.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64',
            body,
          },
        ]),
        [],
      );
      expect(inner?.attachments[0], shape).toMatchObject({
        size: pdf.length,
        sha256: sha256(pdf),
      });
    }
  });

  it('says why when the inner message has no header fields', () => {
    const problems: string[] = [];
    expect(readInnerOutline(Buffer.from('\r\njust text'), problems).inner).toBeNull();
    expect(problems.join('\n')).toMatch(/no header fields/);
  });

  it("gives the full parse's envelope, bodies aside, for every kind of a testkit mailbox", async () => {
    const ca = createTestCa();
    const trustAnchors = loadTrustAnchors([ca.certificate]);
    const corpus = buildCorpus({
      ca,
      count: 400,
      seed: 11,
      attachmentSizes: [0, 1500, 40_000, 1_500_000],
    });
    const kinds = new Set<string>();
    let hashParts = 0;
    for (const { raw } of corpus) {
      const full = await parsePec(raw, { trustAnchors });
      const outline = await parsePec(raw, { trustAnchors, inner: 'outline' });
      expect(withoutBodies(outline)).toEqual(withoutBodies(full));
      kinds.add(outline.kind);
      hashParts += outline.inner?.attachments.filter((a) => a.hashOf).length ?? 0;
    }
    expect(kinds.size).toBeGreaterThanOrEqual(10);
    expect(hashParts).toBeGreaterThan(0);
  });
});
