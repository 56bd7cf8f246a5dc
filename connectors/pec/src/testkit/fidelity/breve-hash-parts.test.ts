/**
 * Breve delivery receipts: docs/pec.md, table row "delivery":
 *   "breve: original with each named part replaced by `<filename>.hash` (SHA-1 hex)"
 * Italian attachment names carry accented letters (relazione_è.pdf, delibera_n°12.pdf): the
 * `.hash` part must still be named `<filename>.hash`, readable by any MIME reader.
 */
import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAvvenutaConsegna, prepareSubmission, type TestProvider } from '../index.js';
import { DATE, leaves, postacertOf, world } from './support.test-support.js';

let providers: { sender: TestProvider; receiver: TestProvider };
beforeAll(() => {
  providers = world();
});

const PDF = Buffer.from('%PDF-1.4\n% relazione tecnica\n');

function breveReceipt(filename: string): Buffer {
  const submission = prepareSubmission({
    provider: providers.sender,
    date: DATE,
    message: {
      from: 'mario.rossi@pec.mittente.test',
      to: ['protocollo@pec.comune.test'],
      subject: 'Trasmissione relazione',
      text: 'In allegato la relazione.',
      messageId: '<client-1@mail.mittente.test>',
      receiptType: 'breve',
      attachments: [{ filename, contentType: 'application/pdf', content: PDF }],
    },
  });
  return buildAvvenutaConsegna({
    provider: providers.receiver,
    submission,
    recipient: 'protocollo@pec.comune.test',
  });
}

describe('breve receipt .hash parts', () => {
  it('names the hash part <filename>.hash for an ASCII name (control case)', () => {
    const postacert = postacertOf(breveReceipt('relazione.pdf'))!;
    expect(leaves(postacert)).toContainEqual({
      contentType: 'application/octet-stream',
      filename: 'relazione.pdf.hash',
    });
  });

  it('names the hash part <filename>.hash when the filename has an accented letter', async () => {
    // docs/pec.md: "breve: original with each named part replaced by `<filename>.hash` (SHA-1 hex)"
    const postacert = postacertOf(breveReceipt('relazione_è.pdf'))!;
    expect(leaves(postacert)).toContainEqual({
      contentType: 'application/octet-stream',
      filename: 'relazione_è.pdf.hash',
    });
    // An independent reader (mailparser) must see the same name and the SHA-1 hex as content.
    const parsed = await simpleParser(postacert);
    const hashPart = parsed.attachments.find((a) => a.filename === 'relazione_è.pdf.hash');
    expect(hashPart?.content.toString('latin1')).toBe(createHash('sha1').update(PDF).digest('hex'));
  });
});
