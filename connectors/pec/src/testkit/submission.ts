import { createHash } from 'node:crypto';
import libmime from 'libmime';
import { parseAddressHeader } from 'mailparser';
import type { ReceiptType } from '../daticert/types.js';
import { findHeaderEnd, parseHeaderSection, type HeaderList } from '../mime/headers.js';
import { stripBrackets, withBrackets } from '../parser/identifiers.js';
import type { DaticertRecipient } from './daticert.js';
import { buildOriginalMessage, clientMessageId, type OriginalMessage } from './original.js';
import type { TestProvider } from './provider.js';

/** One message as the sender's provider accepted it: what the envelope and every receipt refer to. */
export interface Submission {
  sender: string;
  to: string[];
  cc: string[];
  recipients: Required<DaticertRecipient>[];
  subject: string;
  /** The sender client's Message-ID, with angle brackets (X-Riferimento-Message-ID, msgid). */
  clientMessageId: string;
  /** The provider id, no angle brackets: the envelope Message-ID and daticert identificativo. */
  identificativo: string;
  receiptType: ReceiptType;
  date: Date;
  /** The message exactly as the client submitted it. */
  original: Buffer;
  /** postacert.eml as delivered: the original message with its Message-ID replaced by the provider id. */
  postacert: Buffer;
}

export interface SubmissionOptions {
  provider: TestProvider;
  /** Structured, or the raw bytes a client submitted over SMTP. */
  message: OriginalMessage | Buffer;
  /** Default: To and Cc of the message, all `certificato`. */
  recipients?: DaticertRecipient[];
  identificativo?: string;
  date?: Date;
}

export function prepareSubmission(options: SubmissionOptions): Submission {
  const date =
    options.date ??
    (Buffer.isBuffer(options.message) ? new Date() : (options.message.date ?? new Date()));
  const raw = Buffer.isBuffer(options.message)
    ? options.message
    : buildOriginalMessage({ ...options.message, date: options.message.date ?? date });
  const facts = Buffer.isBuffer(options.message)
    ? factsFromRaw(raw)
    : factsFromMessage(options.message);
  const identificativo =
    stripBrackets(options.identificativo) ??
    providerId(options.provider, date, facts.clientMessageId, facts.sender);
  const listed: DaticertRecipient[] =
    options.recipients ?? [...facts.to, ...facts.cc].map((address) => ({ address }));
  const recipients = listed.map((r) => ({
    address: r.address,
    tipo: r.tipo ?? 'certificato',
  }));
  return {
    ...facts,
    recipients,
    identificativo,
    date,
    original: raw,
    postacert: replaceMessageId(raw, `<${identificativo}>`),
  };
}

type Facts = Pick<
  Submission,
  'sender' | 'to' | 'cc' | 'subject' | 'clientMessageId' | 'receiptType'
>;

function factsFromMessage(message: OriginalMessage): Facts {
  return {
    sender: message.from,
    to: message.to,
    cc: message.cc ?? [],
    subject: message.subject,
    clientMessageId: clientMessageId(message),
    receiptType: message.receiptType ?? 'completa',
  };
}

function factsFromRaw(raw: Buffer): Facts {
  const headers = headersOf(raw);
  const addresses = (name: string) =>
    parseAddressHeader(headers.getAll(name), { flatten: true })
      .value.map((a) => a.address ?? '')
      .filter(Boolean);
  const requested = headers.get('x-tiporicevuta')?.trim().toLowerCase();
  return {
    sender: addresses('from')[0] ?? '',
    to: addresses('to'),
    cc: addresses('cc'),
    subject: libmime.decodeWords(headers.get('subject') ?? ''),
    clientMessageId:
      withBrackets(headers.get('message-id')) ??
      `<${createHash('sha1').update(raw).digest('hex').slice(0, 20)}@client.test>`,
    receiptType: requested === 'breve' || requested === 'sintetica' ? requested : 'completa',
  };
}

function headersOf(raw: Buffer): HeaderList {
  const bounds = findHeaderEnd(raw, 0, raw.length);
  return parseHeaderSection(raw.subarray(0, bounds ? bounds.headerEnd : raw.length), []);
}

/** Shaped like real ids (`opec…@provider`), derived from the submission so builds are repeatable. */
function providerId(provider: TestProvider, date: Date, clientId: string, sender: string): string {
  const stamp = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const hash = createHash('sha1')
    .update(`${clientId}|${sender}|${date.toISOString()}`)
    .digest('hex')
    .slice(0, 10);
  return `opec-test.${stamp}.${hash}@${provider.domain}`;
}

/** Replaces (or adds) the Message-ID header, leaving every other byte of the message as it was. */
export function replaceMessageId(raw: Buffer, messageId: string): Buffer {
  const bounds = findHeaderEnd(raw, 0, raw.length);
  const headerEnd = bounds ? bounds.headerEnd : raw.length;
  const lines = raw
    .subarray(0, headerEnd)
    .toString('latin1')
    .split(/(?<=\n)/);
  const kept: string[] = [];
  let dropping = false;
  let insertAt = -1;
  for (const line of lines) {
    if (dropping && /^[ \t]/.test(line)) continue;
    dropping = /^message-id\s*:/i.test(line);
    if (dropping) {
      if (insertAt < 0) insertAt = kept.length;
      continue;
    }
    kept.push(line);
  }
  const newline = lines[0]?.endsWith('\r\n') === false && lines[0]?.endsWith('\n') ? '\n' : '\r\n';
  kept.splice(insertAt < 0 ? kept.length : insertAt, 0, `Message-ID: ${messageId}${newline}`);
  return Buffer.concat([Buffer.from(kept.join(''), 'latin1'), raw.subarray(headerEnd)]);
}
