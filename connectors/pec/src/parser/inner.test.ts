import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mixedMessage } from '../../test/fixtures.js';
import { base64Lines } from '../testkit/mime.js';
import { MAX_BODY_CHARS, readInnerMessage } from './inner.js';

const HEADER_FIELDS = [
  'From: Mario Rossi <mario.rossi@mittente.pec.test>',
  'To: protocollo@comune.pec.test',
  'Subject: Istanza',
  'Date: Thu, 01 Oct 2026 08:00:00 +0000',
  'Message-ID: <istanza-1@mittente.pec.test>',
];

const message = (parts: Array<{ headers: string; body: string }>) =>
  mixedMessage(HEADER_FIELDS, parts);

const sha = (algorithm: string, bytes: Buffer) => createHash(algorithm).update(bytes).digest('hex');

describe('readInnerMessage', () => {
  it('hashes and counts a large attachment as it streams, and reads the headers and text', async () => {
    const pdf = randomBytes(3 * 1024 * 1024 + 7);
    const problems: string[] = [];
    const { inner, attachesMessages } = await readInnerMessage(
      message([
        {
          headers: 'Content-Type: text/plain; charset=utf-8',
          body: 'Chiedo copia della delibera.',
        },
        {
          headers:
            'Content-Type: application/pdf; name="domanda.pdf"\r\nContent-Disposition: attachment; filename="domanda.pdf"\r\nContent-Transfer-Encoding: base64',
          body: base64Lines(pdf),
        },
      ]),
      problems,
    );
    expect(problems).toEqual([]);
    expect(attachesMessages).toBe(false);
    expect(inner).toMatchObject({
      subject: 'Istanza',
      from: { address: 'mario.rossi@mittente.pec.test', name: 'Mario Rossi' },
      to: [{ address: 'protocollo@comune.pec.test', name: '' }],
      date: '2026-10-01T08:00:00.000Z',
      messageId: '<istanza-1@mittente.pec.test>',
      text: 'Chiedo copia della delibera.',
    });
    expect(inner?.attachments).toEqual([
      {
        filename: 'domanda.pdf',
        contentType: 'application/pdf',
        charset: null,
        size: pdf.length,
        sha256: sha('sha256', pdf),
      },
    ]);
  });

  it('reads the SHA-1 of a breve receipt .hash part and says when a message is attached', async () => {
    const pdf = randomBytes(4096);
    const { inner, attachesMessages } = await readInnerMessage(
      message([
        { headers: 'Content-Type: text/plain', body: 'Ricevuta breve.' },
        {
          headers:
            'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="domanda.pdf.hash"',
          body: sha('sha1', pdf).toUpperCase(),
        },
        {
          headers:
            'Content-Type: message/rfc822; name="inoltro.eml"\r\nContent-Disposition: attachment; filename="inoltro.eml"',
          body: 'Subject: inoltro\r\n\r\ntesto\r\n',
        },
      ]),
      [],
    );
    expect(inner?.attachments[0]).toMatchObject({
      filename: 'domanda.pdf.hash',
      size: 40,
      hashOf: { filename: 'domanda.pdf', sha1: sha('sha1', pdf) },
    });
    expect(attachesMessages).toBe(true);
  });

  it('keeps only the first MAX_BODY_CHARS of a huge text body and records a problem', async () => {
    const line = 'abcdefghij'.repeat(7) + '\r\n';
    const body = line.repeat(Math.ceil((MAX_BODY_CHARS * 1.2) / line.length));
    const problems: string[] = [];
    const { inner } = await readInnerMessage(
      message([{ headers: 'Content-Type: text/plain', body }]),
      problems,
    );
    expect(inner?.text.length).toBe(MAX_BODY_CHARS);
    expect(inner?.text.startsWith('abcdefghij')).toBe(true);
    expect(problems).toEqual([
      expect.stringMatching(
        /^inner message text is \d+ characters long: only the first 1000000 are kept$/,
      ),
    ]);
  });
});
