import { createHash } from 'node:crypto';
import { ERDS_NAMESPACE } from '../rem/evidence.js';
import { buildCertifiedMessage } from './certified.js';
import { escape } from './daticert.js';
import { base64Lines, CRLF, writePart, type HeaderLines } from './mime.js';
import { providerAddress, type TestProvider } from './provider.js';
import type { SignatureHash } from './smime.js';
import type { Submission } from './submission.js';

export { ERDS_NAMESPACE };

export interface RemMessageOptions {
  provider: TestProvider;
  submission: Submission;
  /** ERDS evidence type, e.g. `SubmissionAcceptance`, `ContentConsignment`, `ContentConsignmentFailure`. */
  evidence: string;
  date?: Date;
  /** Recipients the evidence is about; default all. */
  recipients?: string[];
  reason?: { code: string; details?: string };
  /** Carry the original message as section `rem_message/original` (a REM dispatch). */
  includeOriginal?: boolean;
  hash?: SignatureHash;
}

/**
 * A REM (ETSI EN 319 532) message: signed, sections marked with REM-Section-Type, the evidence as
 * XML, the client's id in REM-UAMessageIdentifier.
 */
export function buildRemMessage(options: RemMessageOptions): Buffer {
  const { provider, submission } = options;
  const date = options.date ?? submission.date;
  const id = createHash('sha1')
    .update(`${options.evidence}|${submission.identificativo}|${date.toISOString()}`)
    .digest('hex')
    .slice(0, 16);
  const headers: HeaderLines = [
    ['Message-ID', `<rem.${id}@${provider.domain}>`],
    ['REM-UAMessageIdentifier', submission.clientMessageId],
    ['From', providerAddress(provider)],
    ['To', submission.sender],
    ['Subject', `REM ${options.evidence}: ${submission.subject}`],
  ];
  const sections = [
    section(
      'rem_message/evidence',
      'application/xml; name="evidence.xml"',
      'evidence.xml',
      evidenceXml(options, id, date),
    ),
  ];
  if (options.includeOriginal) {
    sections.unshift(
      writePart({
        headers: [
          ['Content-Type', 'message/rfc822'],
          ['Content-Disposition', 'inline'],
          ['REM-Section-Type', 'rem_message/original'],
        ],
        body: submission.postacert,
      }),
    );
  }
  return buildCertifiedMessage({
    provider,
    date,
    headers,
    notice: `Registered Electronic Mail: ${options.evidence}\nMessage: ${submission.clientMessageId}`,
    extraParts: sections,
    ...(options.hash ? { hash: options.hash } : {}),
  });
}

function section(type: string, contentType: string, filename: string, content: Buffer): Buffer {
  return writePart({
    headers: [
      ['Content-Type', contentType],
      ['Content-Transfer-Encoding', 'base64'],
      ['Content-Disposition', `inline; filename="${filename}"`],
      ['REM-Section-Type', type],
    ],
    body: base64Lines(content) + CRLF,
  });
}

function evidenceXml(options: RemMessageOptions, id: string, date: Date): Buffer {
  const recipients = options.recipients ?? options.submission.recipients.map((r) => r.address);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ev:${options.evidence} xmlns:ev="${ERDS_NAMESPACE}">`,
    `  <ev:EvidenceIdentifier>${id}</ev:EvidenceIdentifier>`,
    `  <ev:EventTime>${date.toISOString()}</ev:EventTime>`,
    `  <ev:SenderDetails><ev:ElectronicAddress>mailto:${escape(options.submission.sender)}</ev:ElectronicAddress></ev:SenderDetails>`,
    '  <ev:RecipientDetails>',
    ...recipients.map(
      (r) => `    <ev:ElectronicAddress>mailto:${escape(r)}</ev:ElectronicAddress>`,
    ),
    '  </ev:RecipientDetails>',
    `  <ev:UAMessageIdentifier>${escape(options.submission.clientMessageId)}</ev:UAMessageIdentifier>`,
    ...(options.reason
      ? [
          `  <ev:EventReasons><ev:EventReason><ev:Code>${escape(options.reason.code)}</ev:Code>${options.reason.details ? `<ev:Details>${escape(options.reason.details)}</ev:Details>` : ''}</ev:EventReason></ev:EventReasons>`,
        ]
      : []),
    `</ev:${options.evidence}>`,
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
}
