import { createHash } from 'node:crypto';
import {
  base64Lines,
  boundaryFor,
  CRLF,
  quotedPrintable,
  rfc5322Date,
  romeOffsetMinutes,
  structuredValue,
  toBuffer,
  writeHeaders,
  writeMultipartBody,
  writePart,
  type HeaderLines,
} from './mime.js';

export interface TestAttachment {
  filename: string;
  /** Default application/octet-stream; `message/rfc822` embeds the bytes as a message (a forward). */
  contentType?: string;
  content: Buffer | string;
  /** Default attachment; real providers mark postacert.eml inline. */
  disposition?: 'attachment' | 'inline';
}

/** The message a sender's client writes, before any provider touches it. */
export interface OriginalMessage {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: TestAttachment[];
  /** The client's Message-ID, with angle brackets; derived from the content when absent. */
  messageId?: string;
  date?: Date;
  /** `breve` or `sintetica` asks the provider for that delivery receipt (X-TipoRicevuta). */
  receiptType?: 'completa' | 'breve' | 'sintetica';
  /** Extra header lines, written after the standard ones. */
  headers?: HeaderLines;
}

export function clientMessageId(message: OriginalMessage): string {
  if (message.messageId) return message.messageId;
  const hash = createHash('sha1').update(
    `${message.from}|${message.to.join(',')}|${message.subject}|${message.text}|${message.date?.toISOString() ?? ''}`,
  );
  return `<${hash.digest('hex').slice(0, 20)}@${message.from.split('@')[1] ?? 'client.test'}>`;
}

/** RFC 5322 bytes of the message, CRLF line ends. */
export function buildOriginalMessage(message: OriginalMessage): Buffer {
  const date = message.date ?? new Date();
  const headers: HeaderLines = [
    ['Date', rfc5322Date(date, romeOffsetMinutes(date))],
    ['From', message.from],
    ['To', message.to.join(', ')],
  ];
  if (message.cc?.length) headers.push(['Cc', message.cc.join(', ')]);
  headers.push(['Subject', message.subject], ['Message-ID', clientMessageId(message)]);
  if (message.receiptType && message.receiptType !== 'completa')
    headers.push(['X-TipoRicevuta', message.receiptType]);
  headers.push(...(message.headers ?? []), ['MIME-Version', '1.0']);
  const body = bodyEntity(message);
  return Buffer.concat([
    Buffer.from(writeHeaders([...headers, ...body.headers]) + CRLF, 'utf8'),
    toBuffer(body.body),
  ]);
}

function bodyEntity(message: OriginalMessage): { headers: HeaderLines; body: Buffer | string } {
  const text = textEntity(message);
  if (!message.attachments?.length) return text;
  const parts = [writePart(text), ...message.attachments.map(attachmentPart)];
  const boundary = boundaryFor('mixed', ...parts);
  return {
    headers: [['Content-Type', `multipart/mixed; boundary="${boundary}"`]],
    body: writeMultipartBody(boundary, parts),
  };
}

function textEntity(message: OriginalMessage): { headers: HeaderLines; body: string | Buffer } {
  const plain = textPart('text/plain', message.text);
  if (message.html === undefined) return plain;
  const parts = [writePart(plain), writePart(textPart('text/html', message.html))];
  const boundary = boundaryFor('alternative', ...parts);
  return {
    headers: [['Content-Type', `multipart/alternative; boundary="${boundary}"`]],
    body: writeMultipartBody(boundary, parts),
  };
}

function textPart(type: string, text: string): { headers: HeaderLines; body: string } {
  if (/^[\x20-\x7e\r\n\t]*$/.test(text) && !/[^\r\n]{990}/.test(text)) {
    return {
      headers: [
        ['Content-Type', `${type}; charset=us-ascii`],
        ['Content-Transfer-Encoding', '7bit'],
      ],
      body: text.replace(/\r?\n/g, CRLF) + CRLF,
    };
  }
  return {
    headers: [
      ['Content-Type', `${type}; charset=utf-8`],
      ['Content-Transfer-Encoding', 'quoted-printable'],
    ],
    body: quotedPrintable(text, 'utf-8') + CRLF,
  };
}

function attachmentPart(attachment: TestAttachment): Buffer {
  const contentType = attachment.contentType ?? 'application/octet-stream';
  const disposition = structuredValue(attachment.disposition ?? 'attachment', {
    filename: attachment.filename,
  });
  if (contentType === 'message/rfc822') {
    return writePart({
      headers: [
        ['Content-Type', structuredValue('message/rfc822', { name: attachment.filename })],
        ['Content-Disposition', disposition],
      ],
      body: toBuffer(attachment.content),
    });
  }
  return writePart({
    headers: [
      ['Content-Type', structuredValue(contentType, { name: attachment.filename })],
      ['Content-Transfer-Encoding', 'base64'],
      ['Content-Disposition', disposition],
    ],
    body: base64Lines(toBuffer(attachment.content)) + CRLF,
  });
}
