import { createHash } from 'node:crypto';
import libqp from 'libqp';
import { BASE64_ALPHABET, decodeBase64, PAD } from '../mime/decode.js';
import { entityBody, parseEntity, walk, type MimeEntity } from '../mime/entity.js';
import { isBodyText } from './body-text.js';
import { readHeaderFields } from './header-fields.js';
import { attachmentInfo, declaredCharset, type InnerReading } from './inner.js';
import { SMALL_PART_BYTES } from './mail-stream.js';
import type { AttachmentInfo, InnerMessage } from './types.js';

/*
 * The outline of the message the sender wrote: its header fields and the list of its attachments
 * (name, type, decoded size, SHA-256), read with the envelope's own MIME splitter and native
 * base64 and hashing. The bodies are not decoded: intake stores the outline and the raw bytes,
 * and whoever needs the text reads it from the blob with a full parse (mailparser). On a
 * mailbox's usual mix this is several times cheaper than the full reading.
 */

/**
 * A base64 body is decoded in slices of about this many bytes, so a 25 MB attachment is never
 * decoded whole; small enough that each slice's string lives in V8's young generation (fresh
 * large allocations cost their page faults every time).
 */
const DECODE_SLICE_BYTES = 64 * 1024;

export function readInnerOutline(bytes: Buffer, problems: string[]): InnerReading {
  const local: string[] = [];
  const root = parseEntity(bytes, local);
  for (const problem of local) problems.push(`inner message: ${problem}`);
  const { headers } = root;
  if (headers.size === 0) {
    problems.push('inner message cannot be read: it has no header fields');
    return { inner: null, attachesMessages: false };
  }
  const inner: InnerMessage = { ...readHeaderFields(headers, problems), attachments: [] };
  let attachesMessages = false;
  for (const entity of attachmentsOf(root)) {
    if (entity.contentType === 'message/rfc822') attachesMessages = true;
    inner.attachments.push(describe(bytes, entity));
  }
  return { inner, attachesMessages };
}

export interface AttachmentContent {
  filename: string | null;
  contentType: string;
  /** The charset its Content-Type declares, as the outline lists it; null when none. */
  charset: string | null;
  /**
   * The decoded (base64, quoted-printable) bytes, a slice at a time as the outline hashes them:
   * a 25 MB attachment is sent on without ever being decoded whole. Iterable more than once.
   */
  chunks: Iterable<Buffer>;
}

/** Attachment `index` of a message, counted as its outline lists them; null when there is none. */
export function readInnerAttachment(bytes: Buffer, index: number): AttachmentContent | null {
  let position = 0;
  for (const entity of attachmentsOf(parseEntity(bytes, []))) {
    if (position++ !== index) continue;
    const body = entityBody(bytes, entity);
    return {
      filename: entity.filename,
      contentType: entity.contentType,
      charset: declaredCharset(entity.params.charset),
      chunks: { [Symbol.iterator]: () => decodedSlices(body, entity.transferEncoding) },
    };
  }
  return null;
}

/** The leaves that are not the message's text, in order. */
function* attachmentsOf(root: MimeEntity): Generator<MimeEntity> {
  for (const entity of walk(root)) {
    if (entity.children.length > 0 || entity.contentType.startsWith('multipart/')) continue;
    if (!isBodyText(entity)) yield entity;
  }
}

function describe(raw: Buffer, entity: MimeEntity): AttachmentInfo {
  const hash = createHash('sha256');
  let size = 0;
  let small: Buffer[] | null = [];
  for (const chunk of decodedSlices(entityBody(raw, entity), entity.transferEncoding)) {
    hash.update(chunk);
    size += chunk.length;
    if (small && size <= SMALL_PART_BYTES) small.push(chunk);
    else small = null;
  }
  return attachmentInfo({
    filename: entity.filename,
    contentType: entity.contentType,
    charset: entity.params.charset,
    size,
    sha256: hash.digest('hex'),
    smallContent: small ? Buffer.concat(small) : null,
  });
}

function* decodedSlices(body: Buffer, transferEncoding: string): Generator<Buffer> {
  if (transferEncoding === 'quoted-printable') yield libqp.decode(body);
  else if (transferEncoding !== 'base64') yield body;
  // Node's decoder skips line breaks itself; only a large body needs slicing.
  else if (body.length <= DECODE_SLICE_BYTES) yield decodeBase64(body);
  else yield* decodedLargeBase64(body);
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * The common shape (lines of a multiple of four characters) is decoded a slice of whole lines
 * at a time by Node's decoder directly. A slice is taken only when its decoded length proves it:
 * it must be exactly three bytes per four characters its lines hold, which a stray byte,
 * padding or an odd line breaks. From the first slice that fails, the rest is decoded the
 * general way.
 */
function* decodedLargeBase64(body: Buffer): Generator<Buffer> {
  let offset = 0;
  while (offset < body.length) {
    let end = Math.min(offset + DECODE_SLICE_BYTES, body.length);
    if (end < body.length) {
      const lineEnd = body.lastIndexOf(LF, end - 1);
      if (lineEnd <= offset) break;
      end = lineEnd + 1;
    }
    const characters = lineCharacters(body, offset, end);
    if (characters % 4 !== 0) break;
    const slice = Buffer.from(body.toString('latin1', offset, end), 'base64');
    if (slice.length !== (characters / 4) * 3) break;
    yield slice;
    offset = end;
  }
  if (offset < body.length) yield* compactedBase64(body, offset);
}

/** Bytes of `body[start, end)` that are not line ends. */
function lineCharacters(body: Buffer, start: number, end: number): number {
  let count = 0;
  let line = start;
  while (line < end) {
    let lineEnd = body.indexOf(LF, line);
    if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
    count += lineEnd - line - (lineEnd > line && body[lineEnd - 1] === CR ? 1 : 0);
    line = lineEnd + 1;
  }
  return count;
}

/**
 * Only the alphabet counts (line breaks and stray bytes are skipped, as decoders do): each slice
 * is compacted to its alphabet bytes and decodes a multiple of four of them, the rest carried to
 * the next slice. Padding ends a chunk: what is kept is decoded then, and the next chunk starts
 * a quartet of its own (some gateways pad every line). A byte loop, because a regular expression
 * over 30 MB took a second.
 */
function* compactedBase64(body: Buffer, from: number): Generator<Buffer> {
  const compact = Buffer.allocUnsafe(DECODE_SLICE_BYTES + 4);
  let kept = 0;
  for (let offset = from; offset < body.length; offset += DECODE_SLICE_BYTES) {
    const end = Math.min(offset + DECODE_SLICE_BYTES, body.length);
    // Each character decodes to at most 3/4 of a byte, padded chunks or not.
    const decoded = Buffer.alloc(((DECODE_SLICE_BYTES + 4) / 4) * 3);
    let length = 0;
    for (let index = offset; index < end; index++) {
      const byte = body[index]!;
      if (BASE64_ALPHABET[byte] === 1) compact[kept++] = byte;
      else if (byte === PAD && kept > 0) {
        length += decoded.write(compact.toString('latin1', 0, kept), length, 'base64');
        kept = 0;
      }
    }
    const whole = kept - (kept % 4);
    length += decoded.write(compact.toString('latin1', 0, whole), length, 'base64');
    yield decoded.subarray(0, length);
    compact.copy(compact, 0, whole, kept);
    kept -= whole;
  }
  if (kept > 1) yield Buffer.from(compact.toString('latin1', 0, kept), 'base64');
}
