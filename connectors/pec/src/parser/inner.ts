import type { AddressObject, Headers } from 'mailparser';
import { readMailStream, type StreamedAttachment } from './mail-stream.js';
import type { Address, AttachmentInfo, InnerMessage } from './types.js';

/**
 * Kept per body (text, html): a message is a record of what was said, not an archive of a
 * 50 MB text dump; the raw .eml stays in the blob store.
 */
export const MAX_BODY_CHARS = 1_000_000;

const HASH_PART = /^(.+)\.hash$/i;
const SHA1_HEX = /^[0-9a-f]{40}$/i;

export interface InnerReading {
  inner: InnerMessage | null;
  /** Whether it attaches messages (message/rfc822): where a forwarded envelope may hide. */
  attachesMessages: boolean;
}

export async function readInnerMessage(bytes: Buffer, problems: string[]): Promise<InnerReading> {
  try {
    const mail = await readMailStream(bytes);
    const { headers } = mail;
    const date = headers.get('date');
    const from = address(headers.get('from'))?.value[0];
    const inner: InnerMessage = {
      subject: text(headers.get('subject')),
      from: from ? toAddress(from) : null,
      to: addresses(headers.get('to')),
      cc: addresses(headers.get('cc')),
      date: date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : null,
      messageId: text(headers.get('message-id')),
      text: bounded(mail.text ?? '', 'text', problems),
      attachments: mail.attachments.map(attachmentInfo),
    };
    if (mail.html) inner.html = bounded(mail.html, 'html', problems);
    return {
      inner,
      attachesMessages: mail.attachments.some((a) => a.contentType === 'message/rfc822'),
    };
  } catch (error) {
    problems.push(
      `inner message cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
    return { inner: null, attachesMessages: false };
  }
}

function bounded(body: string, name: 'text' | 'html', problems: string[]): string {
  if (body.length <= MAX_BODY_CHARS) return body;
  problems.push(
    `inner message ${name} is ${body.length} characters long: only the first ${MAX_BODY_CHARS} are kept`,
  );
  return body.slice(0, MAX_BODY_CHARS);
}

type HeaderValue = ReturnType<Headers['get']>;
type MailAddress = AddressObject['value'][number];

function text(value: HeaderValue): string | null {
  return typeof value === 'string' ? value : null;
}

function isAddressObject(value: unknown): value is AddressObject {
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as AddressObject).value)
  );
}

function address(value: HeaderValue): AddressObject | undefined {
  return isAddressObject(value) ? value : undefined;
}

function addresses(value: HeaderValue): Address[] {
  const objects = (Array.isArray(value) ? value : [value]).filter(isAddressObject);
  return objects.flatMap((object) => object.value.flatMap(flatten));
}

function flatten(entry: MailAddress): Address[] {
  if (entry.group) return entry.group.flatMap(flatten);
  return entry.address ? [toAddress(entry)] : [];
}

function toAddress(entry: MailAddress): Address {
  return { address: entry.address ?? '', name: entry.name ?? '' };
}

/** An attachment as listed; a breve receipt's `<name>.hash` part also says which file it stands for. */
export function attachmentInfo(attachment: StreamedAttachment): AttachmentInfo {
  const info: AttachmentInfo = {
    filename: attachment.filename,
    contentType: attachment.contentType,
    size: attachment.size,
    sha256: attachment.sha256,
  };
  const original = attachment.filename ? HASH_PART.exec(attachment.filename)?.[1] : undefined;
  if (!original || !attachment.smallContent) return info;
  const sha1 = attachment.smallContent.toString('latin1').trim();
  if (SHA1_HEX.test(sha1)) info.hashOf = { filename: original, sha1: sha1.toLowerCase() };
  return info;
}
