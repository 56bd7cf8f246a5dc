/**
 * What the bytes we store and submit look like on the wire (compose.ts): CRLF only, lines of
 * at most 998 octets, every attachment carried whole, one RCPT TO per mailbox, the subject
 * recorded as it goes out. Found by review, each failing before its fix.
 */
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composePec, OutgoingPecError } from './compose.js';

const LETTER = {
  from: 'protocollo@comune.pec.test',
  to: ['ufficio.tecnico@regione.pec.test'],
  subject: 'Risposta istanza prot. 1234/2026',
  text: 'Si comunica.',
};

/** Every line of the message, split on CRLF only, with its length in octets. */
const lineLengths = (raw: Buffer) =>
  raw
    .toString('latin1')
    .split('\r\n')
    .map((line) => line.length);

/** A CR not followed by LF, or an LF not preceded by CR. */
const bareLineBreaks = (raw: Buffer) =>
  raw.toString('latin1').match(/\r(?!\n)|(?<!\r)\n/g)?.length ?? 0;

describe('line breaks of the text body', () => {
  it('a text written with LF line breaks (a browser textarea, a JSON body) goes out with CRLF only', async () => {
    // RFC 5322 §2.3: "CR and LF MUST only occur together as CRLF; they MUST NOT appear
    // independently in the body." A textarea's value (HTML spec) and every JSON client use
    // bare LF. The SMTP client turns each into CRLF on the wire (nodemailer's DataStream), so
    // bytes stored with bare LF are not the bytes the provider certified.
    const composed = await composePec({
      ...LETTER,
      text: 'Gentile Sig. Rossi,\nsi comunica l’esito.\n\nCordiali saluti\rUfficio protocollo',
    });
    expect(bareLineBreaks(composed.raw)).toBe(0);
  });
});

describe('attachment content types', () => {
  it('a .zip uploaded as multipart/x-zip (a type some systems report) reaches the recipient as a file', async () => {
    // The upload route keeps the browser's Content-Type and validateOutgoing accepts any
    // type/subtype. nodemailer treats a multipart/* attachment as a container: it writes a
    // boundary, base64-encodes into the preamble (RFC 2045 §6.4 forbids base64 on multipart)
    // and the recipient's client finds a multipart with no parts: the file is lost, and the
    // provider certifies a message without it.
    const zip = Buffer.from('PK\u0003\u0004 contenuto di archivio.zip', 'latin1');
    const composed = await composePec({
      ...LETTER,
      attachments: [{ filename: 'archivio.zip', content: zip, contentType: 'multipart/x-zip' }],
    });
    const parsed = await simpleParser(composed.raw);
    expect(
      parsed.attachments.map((a) => ({
        filename: a.filename,
        content: a.content.toString('latin1'),
      })),
    ).toEqual([{ filename: 'archivio.zip', content: zip.toString('latin1') }]);
  });

  it('an .eml attached as message/rfc822 (a forwarded message) keeps CRLF lines of at most 998 octets', async () => {
    // nodemailer writes a message/* attachment as is (no transfer encoding). An .eml saved on a
    // Unix system has LF line breaks, and a message with long HTML or long base64 lines has
    // lines past RFC 5322 §2.1.1's 998 octets (RFC 5321 §4.5.3.1.6: 1000 with CRLF, which a
    // provider may refuse or break). Either way the stored bytes are not what goes out.
    const eml = Buffer.from(
      'From: mario.rossi@pec.cittadino.test\nSubject: Istanza\nContent-Type: text/html; charset=utf-8\n' +
        `Content-Transfer-Encoding: 8bit\n\n<p>${'Si chiede il rilascio del certificato. '.repeat(40)}</p>\n`,
      'utf8',
    );
    const composed = await composePec({
      ...LETTER,
      attachments: [{ filename: 'istanza.eml', content: eml, contentType: 'message/rfc822' }],
    });
    expect({
      bareLineBreaks: bareLineBreaks(composed.raw),
      longestLine: Math.max(...lineLengths(composed.raw)),
    }).toEqual({ bareLineBreaks: 0, longestLine: expect.toSatisfy((n: number) => n <= 998) });
  });
});

describe('recipients named twice', () => {
  const OFFICE = 'ufficio.tecnico@regione.pec.test';

  // docs/pec.md: the provider limit is size × recipients, and one mailbox is one recipient
  // (the runtime itself records the same address in To and Cc as one tracked recipient,
  // outgoing.ts `record`). RFC 5321 §3.3 makes the envelope, not the headers, say who a message
  // is delivered to: the headers may name the office twice, the envelope must not.

  it('one mailbox in To and in Cc, in another case, is one recipient of the envelope', async () => {
    // PEC providers treat addresses case-insensitively, and the runtime merges these two into one
    // tracked recipient; nodemailer drops only exact duplicates from the envelope, so this one
    // goes out as two RCPT TO: two certified deliveries, two delivery receipts, to one mailbox.
    const composed = await composePec({
      ...LETTER,
      to: [OFFICE],
      cc: ['Ufficio.Tecnico@regione.pec.test'],
    });
    expect(composed.envelope.to.map((a) => a.toLowerCase())).toEqual([OFFICE]);
  });

  it('one mailbox in To and in Cc counts once against the 30 MB provider limit', async () => {
    // Counted twice, a ~15 MB reply to an office also put in Cc is refused as ~30 MB.
    const attachment = Buffer.alloc(11 * 1024 * 1024, 0x41); // ~14.9 MB once base64-encoded
    const outcome = await composePec({
      ...LETTER,
      to: [OFFICE],
      cc: [OFFICE],
      attachments: [{ filename: 'progetto.pdf', content: attachment }],
    }).then(
      () => 'composed',
      (error: Error) => (error instanceof OutgoingPecError ? error.message : String(error)),
    );
    expect(outcome).toBe('composed');
  });
});

describe('subject', () => {
  it('a subject with a line break is refused by name, not silently rewritten', async () => {
    // A subject mapped in a process (FEEL over a case variable) or posted by an API client can
    // carry CR/LF. nodemailer turns them into a space, so the header sent says one thing and the
    // Message row (outgoing.ts recordSubmission stores input.subject) another. The same file
    // already refuses control characters in filenames; ARCHITECTURE §9: bad input gets a clear
    // error naming the field.
    const outcome = await composePec({
      ...LETTER,
      subject: 'Risposta istanza\r\nBcc: altro@pec.test',
    }).then(
      (composed) => ({ sent: /^Subject: .*$/m.exec(composed.raw.toString('latin1'))?.[0] }),
      (error: { field?: string }) => ({ refused: error.field }),
    );
    expect(outcome).toEqual({ refused: 'subject' });
  });

  it('a 998-character subject without spaces (the API allows it) is refused by name, not sent past 998 octets a line', async () => {
    // RFC 5322 §2.1.1: each line MUST be no more than 998 characters. The API and the send task
    // accept subjects of up to 998 characters; nodemailer folds only at whitespace, so an
    // unbroken one (a URL, codes joined with underscores) became "Subject:" CRLF " " + 998.
    const outcome = await composePec({ ...LETTER, subject: `https://${'a'.repeat(990)}` }).catch(
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(OutgoingPecError);
    expect(outcome).toMatchObject({ field: 'subject', message: expect.stringMatching(/998/) });
    // The longest word that may go still fits a folded line.
    const composed = await composePec({ ...LETTER, subject: `Rif. ${'a'.repeat(900)} fine` });
    const header = composed.raw.subarray(0, composed.raw.indexOf('\r\n\r\n'));
    expect(Math.max(...lineLengths(header))).toBeLessThanOrEqual(998);
  });
});
