import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { originalAttachment, parsePec, type PecEnvelope } from '../src/index.js';
import {
  buildCertifiedMessage,
  buildDaticert,
  buildOriginalMessage,
  buildTransportEnvelope,
  prepareSubmission,
  providerAddress,
  toBreveOriginal,
} from '../src/testkit/index.js';
import { DATE, mixedMessage, ORIGINAL, submit, testWorld } from './fixtures.js';

/*
 * The full reading (mailparser) and the outline reading (what intake stores) of the message the
 * sender wrote must say the same about it, bodies aside.
 */

let world: ReturnType<typeof testWorld>;
beforeAll(() => {
  world = testWorld();
});

async function bothReadings(raw: Buffer): Promise<{ full: PecEnvelope; outline: PecEnvelope }> {
  const trustAnchors = world.anchors;
  const full = await parsePec(raw, { trustAnchors });
  const outline = await parsePec(raw, { trustAnchors, inner: 'outline' });
  const withoutBodies = (e: PecEnvelope) => ({
    ...e,
    inner: e.inner && { ...e.inner, text: undefined, html: undefined },
  });
  expect(withoutBodies(outline)).toEqual(withoutBodies(full));
  return { full, outline };
}

/** A transport envelope around the client's message, its header bytes rewritten by `edit`. */
function envelopeWith(edit: (headers: string) => string): Buffer {
  const original = buildOriginalMessage({ ...ORIGINAL, date: DATE });
  const text = original.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const edited = Buffer.from(edit(text.slice(0, end)) + text.slice(end), 'latin1');
  const submission = prepareSubmission({ provider: world.sender, message: edited, date: DATE });
  return buildTransportEnvelope({ provider: world.sender, submission });
}

const sha1 = (bytes: Buffer) => createHash('sha1').update(bytes).digest('hex');

describe('both readings of the original message', () => {
  it('leave an unparseable Date empty and name it, instead of taking the current time', async () => {
    const raw = envelopeWith((headers) =>
      headers.replace(/^Date: .*$/m, 'Date: Thu, 26 Nov 2026 10:15:30 CET'),
    );
    for (const envelope of Object.values(await bothReadings(raw))) {
      expect(envelope.inner?.date).toBeNull();
      expect(envelope.problems).toEqual([
        'inner message Date "Thu, 26 Nov 2026 10:15:30 CET" is not a date: left empty',
      ]);
    }
  });

  it('read raw 8-bit Latin-1 and windows-1252 header bytes as the writer meant them', async () => {
    const raw = envelopeWith((headers) =>
      headers
        .replace(
          /^Subject: .*$/m,
          'Subject: Richiesta \x93citt\xe0\x94 \x80 10 =?iso-8859-1?Q?=96_urgente?=',
        )
        .replace(/^From: .*$/m, 'From: Nicol\xf2 Rossi <mario.rossi@pec.mittente.test>'),
    );
    for (const envelope of Object.values(await bothReadings(raw)))
      expect(envelope.inner).toMatchObject({
        subject: 'Richiesta “città” € 10 – urgente',
        from: { address: 'mario.rossi@pec.mittente.test', name: 'Nicolò Rossi' },
      });
  });

  it('list a breve receipt’s .hash sent as a named text/plain part as an attachment, with its SHA-1', async () => {
    const submission = submit(world.sender);
    const pdf = Buffer.from('%PDF-1.4\n% domanda\n');
    // As some providers write it: text/plain, a name, no Content-Disposition.
    const breve = Buffer.from(
      toBreveOriginal(submission.postacert)
        .toString('latin1')
        .replace(
          /Content-Type: application\/octet-stream; name="?([^";\r\n]+)"?\r\nContent-Transfer-Encoding: 7bit\r\nContent-Disposition: attachment; filename="?[^"\r\n]+"?/,
          'Content-Type: text/plain; name="$1"',
        ),
      'latin1',
    );
    expect(breve.toString('latin1')).toContain('Content-Type: text/plain; name="domanda.pdf.hash"');
    const raw = buildCertifiedMessage({
      provider: world.receiver,
      date: DATE,
      headers: [
        ['Message-ID', '<consegna.1@pec.comune.test>'],
        ['X-Ricevuta', 'avvenuta-consegna'],
        ['X-Riferimento-Message-ID', submission.clientMessageId],
        ['X-TipoRicevuta', 'breve'],
        ['From', providerAddress(world.receiver)],
        ['To', submission.sender],
        ['Subject', `CONSEGNA: ${submission.subject}`],
      ],
      notice: 'Ricevuta di avvenuta consegna',
      postacert: breve,
      daticert: buildDaticert({
        tipo: 'avvenuta-consegna',
        mittente: submission.sender,
        destinatari: submission.recipients,
        gestoreEmittente: world.receiver.name,
        date: DATE,
        identificativo: submission.identificativo,
        msgid: submission.clientMessageId,
        ricevuta: 'breve',
        consegna: 'protocollo@pec.comune.test',
      }),
    });
    const { full, outline } = await bothReadings(raw);
    for (const envelope of [full, outline])
      expect(envelope.inner?.attachments).toEqual([
        expect.objectContaining({
          filename: 'domanda.pdf.hash',
          contentType: 'text/plain',
          hashOf: { filename: 'domanda.pdf', sha1: sha1(pdf) },
        }),
      ]);
    expect(full.inner?.text).not.toContain(sha1(pdf));
    expect(full.inner?.text).toContain('chiedo copia della delibera');
  });

  it('take a text part that carries a file name for an attachment, and only unnamed ones for the text', async () => {
    const raw = mixedMessage(
      [
        'From: a@mittente.test',
        'To: b@comune.test',
        'Subject: Allegati di testo',
        'Date: Thu, 26 Nov 2026 10:15:30 +0100',
      ],
      [
        { headers: 'Content-Type: text/plain; charset=utf-8', body: 'corpo del messaggio' },
        {
          headers:
            'Content-Type: text/plain; name="nota.txt"\r\nContent-Disposition: inline; filename="nota.txt"',
          body: 'nota allegata',
        },
        { headers: 'Content-Type: text/html; name="pagina.html"', body: '<p>pagina</p>' },
        {
          headers: 'Content-Type: text/plain\r\nContent-Disposition: inline',
          body: 'seconda parte',
        },
        { headers: 'Content-Type: message/delivery-status', body: 'Action: failed' },
      ],
    );
    const { full } = await bothReadings(raw);
    expect(full.inner?.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ['nota.txt', 'text/plain'],
      ['pagina.html', 'text/html'],
      [null, 'message/delivery-status'],
    ]);
    expect(full.inner?.text).toBe('corpo del messaggio\nseconda parte');
  });

  it("give the charset an attachment declares (a text file's bytes mean nothing without it), null when none", async () => {
    const raw = mixedMessage(
      ['From: a@mittente.test', 'To: b@comune.test', 'Subject: Allegati di testo'],
      [
        { headers: 'Content-Type: text/plain; charset=utf-8', body: 'corpo del messaggio' },
        {
          headers: 'Content-Type: text/plain; charset="ISO-8859-1"; name="nota.txt"',
          body: 'Citt\u00e0 di Roma',
        },
        { headers: 'Content-Type: text/csv; name="dati.csv"', body: 'a;b' },
      ],
    );
    const { full } = await bothReadings(raw);
    expect(full.inner?.attachments.map((a) => [a.filename, a.charset])).toEqual([
      ['nota.txt', 'iso-8859-1'],
      ['dati.csv', null],
    ]);
    expect([0, 1].map((index) => originalAttachment(raw, index)?.charset)).toEqual([
      'iso-8859-1',
      null,
    ]);
  });
});
