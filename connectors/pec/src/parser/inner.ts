import { simpleParser, type AddressObject, type Attachment } from 'mailparser';
import type { Address, AttachmentInfo, InnerMessage } from './types.js';

/*
 * mailparser does the content work (charsets, transfer encodings, encoded words, format=flowed,
 * addresses). Options skip what an envelope does not need: text-to-HTML conversion, link
 * detection, cid inlining; embedded messages stay attachments (a forwarded PEC is parsed on its own).
 */
const OPTIONS = {
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  ignoreEmbedded: true,
  checksumAlgo: 'sha256',
} as const;

const HASH_PART = /^(.+)\.hash$/i;
const SHA1_HEX = /^[0-9a-f]{40}$/i;

export interface InnerReading {
  inner: InnerMessage | null;
  /** Raw bytes of the messages attached to it (message/rfc822): where a forwarded envelope hides. */
  embedded: Buffer[];
}

export async function readInnerMessage(bytes: Buffer, problems: string[]): Promise<InnerReading> {
  try {
    const mail = await simpleParser(bytes, OPTIONS);
    const inner: InnerMessage = {
      subject: mail.subject ?? null,
      from: mail.from?.value[0] ? toAddress(mail.from.value[0]) : null,
      to: addresses(mail.to),
      cc: addresses(mail.cc),
      date: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : null,
      messageId: mail.messageId ?? null,
      text: mail.text ?? '',
      attachments: mail.attachments.map(toAttachmentInfo),
    };
    if (mail.html) inner.html = mail.html;
    return { inner, embedded: mail.attachments.filter((a) => a.contentType === 'message/rfc822').map((a) => a.content) };
  } catch (error) {
    problems.push(`inner message cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    return { inner: null, embedded: [] };
  }
}

type MailAddress = AddressObject['value'][number];

function addresses(value: AddressObject | AddressObject[] | undefined): Address[] {
  if (!value) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((object) => object.value.flatMap(flatten));
}

function flatten(entry: MailAddress): Address[] {
  if (entry.group) return entry.group.flatMap(flatten);
  return entry.address ? [toAddress(entry)] : [];
}

function toAddress(entry: MailAddress): Address {
  return { address: entry.address ?? '', name: entry.name ?? '' };
}

function toAttachmentInfo(attachment: Attachment): AttachmentInfo {
  const info: AttachmentInfo = {
    filename: attachment.filename ?? null,
    contentType: attachment.contentType,
    size: attachment.size,
    sha256: attachment.checksum,
  };
  const original = attachment.filename ? HASH_PART.exec(attachment.filename)?.[1] : undefined;
  if (!original || attachment.size > 128) return info;
  const sha1 = attachment.content.toString('latin1').trim();
  if (SHA1_HEX.test(sha1)) info.hashOf = { filename: original, sha1: sha1.toLowerCase() };
  return info;
}
