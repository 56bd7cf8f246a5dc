import { decodedBody, parseEntity, walk, type MimeEntity } from '../mime/entity.js';
import { findHeaderEnd, parseHeaderSection } from '../mime/headers.js';
import { hasCertifiedMarkers } from './structure.js';

/** Looked at before giving up: a message with thousands of embedded messages is not a forward. */
const MAX_CANDIDATES = 16;

/**
 * The bytes of a certified message embedded in `raw` (as message/rfc822), or null. Used for a forward
 * (an envelope inside postacert.eml) and for a mailing list that attached the envelope it relayed.
 */
export function findEmbeddedCertified(raw: Buffer, root: MimeEntity): Buffer | null {
  let looked = 0;
  for (const entity of walk(root)) {
    if (entity.contentType !== 'message/rfc822') continue;
    if ((looked += 1) > MAX_CANDIDATES) return null;
    const body = decodedBody(raw, entity);
    if (looksCertified(body)) return body;
  }
  return null;
}

/**
 * The message itself when it is certified, else the first certified message attached to it. Its
 * MIME tree is split only when the inner reading saw an attached message (most have none); the
 * split's problems are not reported again, the inner reading already stands for this message.
 */
export function findCertifiedMessage(bytes: Buffer, attachesMessages: boolean): Buffer | null {
  if (looksCertified(bytes)) return bytes;
  return attachesMessages ? findEmbeddedCertified(bytes, parseEntity(bytes, [])) : null;
}

function looksCertified(bytes: Buffer): boolean {
  const bounds = findHeaderEnd(bytes, 0, bytes.length);
  const headers = parseHeaderSection(
    bytes.subarray(0, bounds ? bounds.headerEnd : bytes.length),
    [],
  );
  return hasCertifiedMarkers(headers);
}
