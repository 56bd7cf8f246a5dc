/**
 * Builds the exact bytes of a message we send by PEC, before sending, so the caller can store
 * them and the Message-ID (the key every receipt will point back to) before any receipt can
 * arrive.
 */
import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';

export interface OutgoingAttachment {
  filename: string;
  content: Buffer;
  contentType?: string;
}

export interface OutgoingPec {
  /** The sending PEC address (the mailbox's own). */
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: OutgoingAttachment[];
  /** `<local@domain>`; generated when absent. */
  messageId?: string;
  /** Delivery receipt style asked of the provider (X-TipoRicevuta); the provider's default is completa. */
  receiptType?: 'completa' | 'breve' | 'sintetica';
}

export interface ComposedPec {
  raw: Buffer;
  messageId: string;
  envelope: { from: string; to: string[] };
}

export class OutgoingPecError extends Error {
  readonly code = 'invalid-outgoing-pec';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field} ${reason}`);
    this.name = 'OutgoingPecError';
  }
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/**
 * What a PEC provider takes of one message: 30 MB counted once per recipient (docs/pec.md).
 * Past it the provider refuses the message after it was recorded and spent a slot of the pace;
 * refused here, the caller learns why at once.
 */
export const PROVIDER_LIMIT_BYTES = 30 * 1024 * 1024;

export function validateOutgoing(message: OutgoingPec): void {
  if (!ADDRESS.test(message.from))
    throw new OutgoingPecError('from', `is not an e-mail address: "${message.from}"`);
  const recipients = [...message.to, ...(message.cc ?? [])];
  if (message.to.length === 0) throw new OutgoingPecError('to', 'must name at least one recipient');
  // 254: the longest address SMTP carries (RFC 5321 path limit).
  const bad = recipients.find((address) => !ADDRESS.test(address) || address.length > 254);
  if (bad !== undefined) throw new OutgoingPecError('to', `contains an invalid address: "${bad}"`);
  validateSubject(message.subject);
  if (message.messageId !== undefined && !/^<[^<>\s]+@[^<>\s]+>$/.test(message.messageId)) {
    throw new OutgoingPecError('messageId', 'must look like <local@domain>');
  }
  message.attachments?.forEach((attachment, index) => {
    if (!ATTACHMENT_NAME.test(attachment.filename))
      throw new OutgoingPecError(
        `attachments.${index}.filename`,
        `must be a file name without a directory or control characters, got "${attachment.filename}"`,
      );
    if (attachment.contentType !== undefined && !CONTENT_TYPE.test(attachment.contentType))
      throw new OutgoingPecError(
        `attachments.${index}.contentType`,
        `must be a media type (type/subtype, parameters as name=value), got "${attachment.contentType.slice(0, 80)}"`,
      );
  });
}

/**
 * The subject goes out as one header field and is recorded as given: a line break (nodemailer
 * turns it into a space) would make the recorded subject differ from the certified one, and a
 * run of characters with no space to fold at makes a header line past RFC 5322's 998 octets.
 */
function validateSubject(subject: string): void {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(subject))
    throw new OutgoingPecError('subject', 'must be one line without control characters');
  const longest = Math.max(0, ...subject.split(/\s+/).map((word) => Buffer.byteLength(word)));
  if (longest > MAX_SUBJECT_WORD_BYTES)
    throw new OutgoingPecError(
      'subject',
      `has a word of ${longest} bytes: a header line holds at most 998, so break it with spaces`,
    );
}

/** "Subject: " and a folded line's leading space leave room under 998 octets. */
const MAX_SUBJECT_WORD_BYTES = 900;

const TOKEN = '[A-Za-z0-9!#$&^_.+-]+';
/**
 * A Content-Type the attachment's MIME header carries as given: `type/subtype` and parameters,
 * at most 255 characters, no control character (nodemailer would fold a line break into the
 * header).
 */
const CONTENT_TYPE = new RegExp(
  `^(?=.{3,255}$)${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=(${TOKEN}|"[^"\\u0000-\\u001f\\u007f]*"))*$`,
);

/**
 * As an upload's name (files.ts): a directory part (C:\fakepath\…, ../) tells the recipient
 * about the sender's disk, a control character breaks the MIME header it goes in.
 */
const ATTACHMENT_NAME = /^[^\\/\u0000-\u001f\u007f]{1,255}$/;

export function newMessageId(from: string): string {
  return `<${randomUUID()}@${from.split('@')[1] ?? 'pectrack.invalid'}>`;
}

export async function composePec(message: OutgoingPec): Promise<ComposedPec> {
  validateOutgoing(message);
  const messageId = message.messageId ?? newMessageId(message.from);
  const headers: Record<string, string> = {};
  if (message.receiptType && message.receiptType !== 'completa')
    headers['X-TipoRicevuta'] = message.receiptType;
  const node = new MailComposer({
    from: message.from,
    to: message.to,
    cc: message.cc,
    subject: message.subject,
    text: withCrlf(message.text),
    html: message.html === undefined ? undefined : withCrlf(message.html),
    messageId,
    headers,
    attachments: message.attachments?.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: attachedType(a.contentType),
    })),
  }).compile();
  // Bcc is never used for PEC: every recipient must be certified, so envelope = To + Cc.
  const envelope = {
    from: message.from,
    to: oncePerMailbox([...message.to, ...(message.cc ?? [])]),
  };
  const raw = await node.build();
  checkProviderLimit(raw.length, envelope.to.length);
  return { raw, messageId, envelope };
}

/**
 * CRLF line ends only (RFC 5322 §2.3). A textarea or a JSON body writes LF, which nodemailer
 * keeps in the bytes it builds and the SMTP data stream then rewrites to CRLF: the stored
 * message, the record of what was certified, would differ from the bytes the provider got.
 */
function withCrlf(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}

/**
 * A file is carried as base64, byte for byte. nodemailer writes a `message/*` part as it is
 * (an attached .eml's own line ends and long lines on the wire, its bytes altered in transit)
 * and builds a `multipart/*` one as an empty container (the file lost): both go as
 * application/octet-stream, the file name still saying what they are.
 */
function attachedType(contentType: string | undefined): string | undefined {
  return contentType && /^\s*(multipart|message)\//i.test(contentType)
    ? 'application/octet-stream'
    : contentType;
}

/**
 * One RCPT TO per mailbox: the same address in To and Cc, or spelled in another case (domains
 * and, at PEC providers, mailboxes are case-insensitive) would have the provider deliver and
 * certify it twice, and count it twice against the size limit.
 */
function oncePerMailbox(addresses: string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((address) => {
    const key = address.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function checkProviderLimit(bytes: number, recipients: number): void {
  if (bytes * recipients <= PROVIDER_LIMIT_BYTES) return;
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  throw new OutgoingPecError(
    'attachments',
    `make the message ${mb(bytes)} MB for ${recipients} recipient(s), ${mb(bytes * recipients)} MB in all: providers take at most ${mb(PROVIDER_LIMIT_BYTES)} MB (size × recipients); send fewer or smaller attachments, or to fewer recipients at once`,
  );
}
