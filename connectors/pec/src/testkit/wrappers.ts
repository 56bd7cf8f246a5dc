import { findHeaderEnd, parseHeaderSection } from '../mime/headers.js';
import {
  boundaryFor,
  CRLF,
  writeHeaders,
  writeMultipartBody,
  writePart,
  type HeaderLines,
} from './mime.js';
import type { OriginalMessage } from './original.js';

export interface MailingListOptions {
  /** e.g. `<protocollo.comune.test>` */
  listId: string;
  listAddress: string;
  /**
   * `footer`: the list keeps the headers and puts the signed body in a multipart/mixed with a footer
   * (Mailman's decoration). `attachment`: the list sends its own message with the envelope attached
   * as message/rfc822 (Mailman's wrap_message).
   */
  style?: 'footer' | 'attachment';
  footer?: string;
  subjectTag?: string;
}

/** An envelope as a mailing list relays it; the signed entity inside keeps its exact bytes. */
export function wrapForMailingList(envelope: Buffer, options: MailingListOptions): Buffer {
  const footer = options.footer ?? `Messaggio inviato tramite la lista ${options.listAddress}`;
  const footerPart = writePart({
    headers: [['Content-Type', 'text/plain; charset=utf-8']],
    body: footer + CRLF,
  });
  const tag = options.subjectTag ?? `[${options.listAddress.split('@')[0]}]`;
  const bounds = findHeaderEnd(envelope, 0, envelope.length);
  const headerEnd = bounds?.headerEnd ?? envelope.length;
  const bodyStart = bounds?.bodyStart ?? envelope.length;
  const headers = parseHeaderSection(envelope.subarray(0, headerEnd), []);
  if (options.style === 'attachment') {
    const attached = writePart({
      headers: [
        ['Content-Type', 'message/rfc822'],
        ['Content-Disposition', 'inline'],
      ],
      body: envelope,
    });
    const boundary = boundaryFor('list', envelope);
    const listHeaders: HeaderLines = [
      ['From', options.listAddress],
      ['To', options.listAddress],
      ['Subject', `${tag} ${headers.get('subject') ?? ''}`],
      ['List-Id', options.listId],
      ['MIME-Version', '1.0'],
      ['Content-Type', `multipart/mixed; boundary="${boundary}"`],
    ];
    return Buffer.concat([
      Buffer.from(writeHeaders(listHeaders) + CRLF, 'utf8'),
      writeMultipartBody(boundary, [footerPart, attached]),
    ]);
  }
  const original = writePart({
    headers: [['Content-Type', headers.get('content-type') ?? 'text/plain']],
    body: envelope.subarray(bodyStart),
  });
  const boundary = boundaryFor('list', envelope);
  const kept: HeaderLines = headers.fields
    .filter((field) => field.name !== 'content-type' && field.name !== 'subject')
    .map((field) => [canonicalName(field.name), field.value]);
  const listHeaders: HeaderLines = [
    ...kept.filter(([name]) => name !== 'Mime-Version'),
    ['Subject', `${tag} ${headers.get('subject') ?? ''}`],
    ['List-Id', options.listId],
    ['MIME-Version', '1.0'],
    ['Content-Type', `multipart/mixed; boundary="${boundary}"`],
  ];
  return Buffer.concat([
    Buffer.from(writeHeaders(listHeaders) + CRLF, 'utf8'),
    writeMultipartBody(boundary, [original, footerPart]),
  ]);
}

function canonicalName(name: string): string {
  if (name === 'message-id') return 'Message-ID';
  return name.replace(
    /(^|-)([a-z])/g,
    (_, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
}

export interface ForwardOptions {
  from: string;
  to: string[];
  subject?: string;
  text?: string;
  date?: Date;
}

/** A message forwarding a received envelope as an attachment, the way mail clients do. */
export function forwardMessage(envelope: Buffer, options: ForwardOptions): OriginalMessage {
  const bounds = findHeaderEnd(envelope, 0, envelope.length);
  const subject =
    parseHeaderSection(envelope.subarray(0, bounds?.headerEnd ?? envelope.length), []).get(
      'subject',
    ) ?? '';
  const message: OriginalMessage = {
    from: options.from,
    to: options.to,
    subject: options.subject ?? `I: ${subject}`,
    text: options.text ?? 'Inoltro il messaggio di posta certificata in allegato.',
    attachments: [
      { filename: 'postacert-inoltrata.eml', contentType: 'message/rfc822', content: envelope },
    ],
  };
  if (options.date) message.date = options.date;
  return message;
}
