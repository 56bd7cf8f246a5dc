import { leadingHeaders, readHeaderFields } from './header-fields.js';
import { readMailStream, type StreamedAttachment } from './mail-stream.js';
import type { AttachmentInfo, InnerMessage } from './types.js';

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

/** The full reading: header fields as the outline reads them, bodies and attachments by mailparser. */
export async function readInnerMessage(bytes: Buffer, problems: string[]): Promise<InnerReading> {
  try {
    const mail = await readMailStream(bytes);
    const inner: InnerMessage = {
      ...readHeaderFields(leadingHeaders(bytes), problems),
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

/**
 * A charset parameter as both readings give it: names are case-insensitive (RFC 2046), and an
 * empty one declares nothing. A text attachment's bytes are only read right in it.
 */
export function declaredCharset(param: string | undefined): string | null {
  return param?.trim().toLowerCase() || null;
}

/** An attachment as listed; a breve receipt's `<name>.hash` part also says which file it stands for. */
export function attachmentInfo(attachment: StreamedAttachment): AttachmentInfo {
  const info: AttachmentInfo = {
    filename: attachment.filename,
    contentType: attachment.contentType,
    charset: declaredCharset(attachment.charset),
    size: attachment.size,
    sha256: attachment.sha256,
  };
  const original = attachment.filename ? HASH_PART.exec(attachment.filename)?.[1] : undefined;
  if (!original || !attachment.smallContent) return info;
  const sha1 = attachment.smallContent.toString('latin1').trim();
  if (SHA1_HEX.test(sha1)) info.hashOf = { filename: original, sha1: sha1.toLowerCase() };
  return info;
}
