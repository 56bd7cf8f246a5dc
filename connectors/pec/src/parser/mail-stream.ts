import {
  MailParser,
  type AttachmentStream,
  type MessageText,
  type StructuredHeader,
} from 'mailparser';
import { isBodyText } from './body-text.js';

/*
 * mailparser does the content work (charsets, transfer encodings, encoded words, format=flowed,
 * addresses). Options skip what an envelope does not need: text-to-HTML conversion, link
 * detection; embedded messages stay attachments (a forwarded PEC is parsed on its own).
 */
const OPTIONS = {
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  ignoreEmbedded: true,
  checksumAlgo: 'sha256',
} as const;

/**
 * What is written to the parser at a time. mailparser copies whatever it is given into its own
 * 64 KB chunks (Buffer.concat) and decodes chunk by chunk: handing it a 34 MB message in one write
 * meant a 34 MB copy, a 34 MB base64 string and a 25 MB decoded chunk, all at once.
 */
const FEED_BYTES = 64 * 1024;

/** Enough for a breve receipt's `.hash` part (a hex SHA-1 and a line end); larger parts keep no bytes. */
export const SMALL_PART_BYTES = 128;

export interface StreamedAttachment {
  filename: string | null;
  contentType: string;
  /** The charset parameter of its Content-Type as written, when it has one. */
  charset?: string;
  size: number;
  sha256: string;
  /** The content when it is at most SMALL_PART_BYTES long, else null. */
  smallContent: Buffer | null;
}

export interface StreamedMail {
  text: string | undefined;
  html: string | undefined;
  attachments: StreamedAttachment[];
}

/** A mailsplit node as mailparser's createNode receives it, and the parts of what it returns that matter. */
interface SplitNode {
  contentType?: string | false;
  disposition?: string | false;
  filename?: string | false;
}
interface ParserNode {
  isAttachment?: boolean;
}

const baseCreateNode = (
  MailParser.prototype as unknown as { createNode(node: SplitNode): ParserNode }
).createNode;

/**
 * mailparser takes every inline text/plain or text/html leaf for text, a named one too (a breve
 * receipt's `x.pdf.hash`). It decides in createNode, internal (absent from its types), so the
 * rule both readings share (body-text.ts) is applied there; a text leaf it no longer takes for
 * text is streamed as an attachment. Were createNode renamed, the test holding the two readings
 * equal on named text parts would fail.
 */
class PecMailParser extends MailParser {
  createNode(node: SplitNode): ParserNode {
    const created = baseCreateNode.call(this, node);
    if (
      created.isAttachment === false &&
      !isBodyText({
        contentType: node.contentType || 'text/plain',
        disposition: node.disposition || null,
        filename: node.filename || null,
      })
    )
      created.isAttachment = true;
    return created;
  }
}

/**
 * Reads a message with mailparser's streaming MailParser. Attachment content is hashed and counted
 * as it flows through and then dropped: a 25 MB attachment is never held (simpleParser keeps every
 * attachment whole). Rejects with mailparser's error when the message cannot be read.
 */
export function readMailStream(bytes: Buffer): Promise<StreamedMail> {
  return new Promise((resolve, reject) => {
    const parser = new PecMailParser(OPTIONS);
    const mail: StreamedMail = {
      text: undefined,
      html: undefined,
      attachments: [],
    };
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      parser.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    let reading = false;
    const readNext = (): void => {
      reading = true;
      for (
        let item = parser.read() as AttachmentStream | MessageText | null;
        item !== null;
        item = parser.read() as AttachmentStream | MessageText | null
      ) {
        if (item.type === 'attachment') {
          drainAttachment(item, mail.attachments, readNext, fail);
          return;
        }
        mail.text = item.text;
        mail.html = item.html;
      }
      reading = false;
    };
    parser.on('readable', () => {
      if (!reading) readNext();
    });
    parser.on('error', fail);
    parser.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(mail);
    });
    feed(parser, bytes);
  });
}

/** Writes views of `bytes` FEED_BYTES at a time, waiting when the parser asks to. */
function feed(parser: MailParser, bytes: Buffer): void {
  let offset = 0;
  const writeMore = (): void => {
    while (offset < bytes.length) {
      const slice = bytes.subarray(offset, offset + FEED_BYTES);
      offset += slice.length;
      if (!parser.write(slice)) {
        parser.once('drain', writeMore);
        return;
      }
    }
    parser.end();
  };
  writeMore();
}

/** Hashes (mailparser's StreamHash) and counts the content, keeps only a small part's bytes, then lets the parser go on. */
function drainAttachment(
  attachment: AttachmentStream,
  into: StreamedAttachment[],
  next: () => void,
  fail: (error: unknown) => void,
): void {
  let small: Buffer[] | null = [];
  let seen = 0;
  attachment.content.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (small && seen <= SMALL_PART_BYTES) small.push(chunk);
    else small = null;
  });
  attachment.content.once('error', fail);
  attachment.content.once('end', () => {
    into.push({
      filename: attachment.filename ?? null,
      contentType: attachment.contentType,
      charset: (attachment.headers.get('content-type') as StructuredHeader | undefined)?.params
        .charset,
      size: attachment.size ?? seen,
      sha256: attachment.checksum ?? '',
      smallContent: small ? Buffer.concat(small) : null,
    });
    attachment.release?.();
    next();
  });
}
