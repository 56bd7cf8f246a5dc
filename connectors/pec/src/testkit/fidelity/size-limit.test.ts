/**
 * docs/pec.md, "Rules that follow":
 *   "Size limit at the provider: 30 MB (size × recipients)."
 * The test provider's SMTP front plays the provider: a submission over the limit must not be
 * accepted and certified (no accettazione, no transport envelope delivered), as a real provider
 * refuses it. Otherwise the sending side's handling of the provider's refusal is never exercised.
 */
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dovecotUnavailableReason,
  startDovecot,
  startSmtpFront,
  type DovecotServer,
  type SmtpFront,
} from '../index.js';
import { world } from './support.test-support.js';

const dovecotMissing = dovecotUnavailableReason();
const SENDER = 'mario.rossi@pec.mittente.test';
const RECIPIENTS = ['uno@pec.mittente.test', 'due@pec.mittente.test', 'tre@pec.mittente.test'];
const PASSWORD = 'segreto';
const MB = 1024 * 1024;

/** A plain message of about `bytes` bytes, 76-column lines. */
function messageOfSize(bytes: number): Buffer {
  const head = [
    `From: ${SENDER}`,
    `To: ${RECIPIENTS.join(', ')}`,
    'Subject: Allegato voluminoso',
    'Message-ID: <big-1@mail.mittente.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    '',
  ].join('\r\n');
  const line = 'A'.repeat(74) + '\r\n';
  return Buffer.from(head + line.repeat(Math.ceil((bytes - head.length) / line.length)));
}

describe.skipIf(Boolean(dovecotMissing))('test provider SMTP front: 30 MB limit', () => {
  let dovecot: DovecotServer;
  let front: SmtpFront;
  beforeAll(async () => {
    dovecot = await startDovecot({
      users: [SENDER, ...RECIPIENTS].map((user) => ({ user, password: PASSWORD })),
    });
    front = await startSmtpFront({
      provider: world().sender,
      imap: { host: dovecot.host, port: dovecot.port },
      mailboxes: Object.fromEntries([SENDER, ...RECIPIENTS].map((a) => [a, PASSWORD])),
    });
  });
  afterAll(async () => {
    await front?.close();
    await dovecot?.close();
  });

  it('does not accept and certify 11 MB × 3 recipients (33 MB > 30 MB)', async () => {
    // docs/pec.md: "Size limit at the provider: 30 MB (size × recipients)."
    const raw = messageOfSize(11 * MB);
    const transport = nodemailer.createTransport({
      host: front.host,
      port: front.port,
      secure: false,
      ignoreTLS: true,
      auth: { user: SENDER, pass: PASSWORD },
    });
    const answer = await transport
      .sendMail({ envelope: { from: SENDER, to: RECIPIENTS }, raw })
      .then(
        () => 'accepted',
        (error: Error) => `refused: ${error.message}`,
      );
    await front.settled();
    const deliveries = front.processed.flatMap((p) => p.deliveries);
    expect(front.failures).toEqual([]);
    // Either the SMTP answer refuses it, or the provider answers with a non-accettazione:
    // never an accettazione followed by certified delivery to the recipients.
    expect(deliveries.filter((d) => d.startsWith('posta-certificata'))).toEqual([]);
    expect(deliveries.filter((d) => d.startsWith('accettazione'))).toEqual([]);
    expect(answer === 'accepted' ? deliveries : ['refused']).not.toEqual([]);
  }, 120_000);
});
