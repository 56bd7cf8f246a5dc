import { loadTrustAnchors } from '../src/index.js';
import {
  createTestCa,
  createTestProvider,
  prepareSubmission,
  type OriginalMessage,
  type Submission,
  type TestProvider,
} from '../src/testkit/index.js';

/** One CA and two providers (sha1 like most real ones, sha256 like some) shared by a test file. */
export function testWorld() {
  const ca = createTestCa();
  const sender = createTestProvider(ca, {
    domain: 'pec.mittente.test',
    name: 'Gestore Mittente S.p.A.',
  });
  const receiver = createTestProvider(ca, {
    domain: 'pec.comune.test',
    name: 'Gestore Comune S.r.l.',
    hash: 'sha256',
  });
  const anchors = loadTrustAnchors([ca.certificatePem]);
  return { ca, sender, receiver, anchors };
}

export const DATE = new Date('2026-11-26T09:15:30Z');

export const ORIGINAL: OriginalMessage = {
  from: 'mario.rossi@pec.mittente.test',
  to: ['protocollo@pec.comune.test'],
  cc: ['ragioneria@pec.comune.test'],
  subject: 'Richiesta di accesso agli atti',
  text: 'Buongiorno,\nchiedo copia della delibera n. 12/2026.\nCordiali saluti',
  attachments: [
    {
      filename: 'domanda.pdf',
      contentType: 'application/pdf',
      content: Buffer.from('%PDF-1.4\n% domanda\n'),
    },
  ],
  messageId: '<client-1234@mail.mittente.test>',
};

export function submit(provider: TestProvider, message: Partial<OriginalMessage> = {}): Submission {
  return prepareSubmission({ provider, date: DATE, message: { ...ORIGINAL, ...message } });
}

/** A multipart/mixed message as a test writes it by hand: these header fields, then the parts, CRLF. */
export function mixedMessage(
  headerFields: string[],
  parts: Array<{ headers: string; body: string }>,
): Buffer {
  const lines = [
    ...headerFields,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
  ];
  for (const part of parts) lines.push('--b1', part.headers, '', part.body);
  lines.push('--b1--', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}
