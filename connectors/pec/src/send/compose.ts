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
    text: message.text,
    html: message.html,
    messageId,
    headers,
    attachments: message.attachments?.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
    })),
  }).compile();
  // Bcc is never used for PEC: every recipient must be certified, so envelope = To + Cc.
  const envelope = { from: message.from, to: [...message.to, ...(message.cc ?? [])] };
  const raw = await node.build();
  checkProviderLimit(raw.length, envelope.to.length);
  return { raw, messageId, envelope };
}

function checkProviderLimit(bytes: number, recipients: number): void {
  if (bytes * recipients <= PROVIDER_LIMIT_BYTES) return;
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  throw new OutgoingPecError(
    'attachments',
    `make the message ${mb(bytes)} MB for ${recipients} recipient(s), ${mb(bytes * recipients)} MB in all: providers take at most ${mb(PROVIDER_LIMIT_BYTES)} MB (size × recipients); send fewer or smaller attachments, or to fewer recipients at once`,
  );
}
