import { walk, type MimeEntity } from '../mime/entity.js';
import type { HeaderList } from '../mime/headers.js';

/** The parts of a certified message that matter, located in its entity tree. */
export interface EnvelopeParts {
  /** The multipart/signed entity, when there is one. */
  signed: MimeEntity | null;
  /** The message itself when it is opaque S/MIME signed data (application/pkcs7-mime). */
  opaqueSigned: MimeEntity | null;
  /** The signed content (first part of multipart/signed), or the message itself when unsigned. */
  content: MimeEntity;
  signature: MimeEntity | null;
  daticert: MimeEntity[];
  postacert: MimeEntity | null;
  remSections: MimeEntity[];
}

/** How far below the top a mailing list may have pushed the signed entity. */
const SIGNED_SEARCH_DEPTH = 3;

export function locateParts(root: MimeEntity): EnvelopeParts {
  const signed = findSigned(root, SIGNED_SEARCH_DEPTH);
  const content = signed?.children[0] ?? root;
  const signature =
    signed?.children.find((child, index) => index > 0 && isSignaturePart(child)) ?? null;
  const inside = [...walk(content)];
  const embedded = inside.filter((entity) => entity.contentType === 'message/rfc822');
  return {
    signed,
    opaqueSigned: isOpaqueSigned(root) ? root : null,
    content,
    signature,
    daticert: inside.filter(isDaticert),
    postacert:
      embedded.find((entity) => entity.filename?.toLowerCase() === 'postacert.eml') ??
      embedded[0] ??
      null,
    remSections: inside.filter((entity) => entity.headers.has('rem-section-type')),
  };
}

function findSigned(entity: MimeEntity, depthLeft: number): MimeEntity | null {
  if (entity.contentType === 'multipart/signed') return entity;
  if (depthLeft === 0) return null;
  for (const child of entity.children) {
    const found = findSigned(child, depthLeft - 1);
    if (found) return found;
  }
  return null;
}

function isSignaturePart(entity: MimeEntity): boolean {
  return (
    /^application\/(x-)?pkcs7-signature$/.test(entity.contentType) ||
    entity.filename?.toLowerCase() === 'smime.p7s'
  );
}

/**
 * Opaque S/MIME: the whole message is one CMS SignedData carrying its content inside it. Only the
 * message itself counts: an application/pkcs7-mime part further down is a signed file (a .p7m
 * document), not the message's signature. smime-type is optional; other values are not signatures.
 */
function isOpaqueSigned(root: MimeEntity): boolean {
  if (!/^application\/(x-)?pkcs7-mime$/.test(root.contentType)) return false;
  const smimeType = root.params['smime-type']?.toLowerCase();
  return smimeType === undefined || smimeType === 'signed-data';
}

function isDaticert(entity: MimeEntity): boolean {
  if (entity.filename?.toLowerCase() === 'daticert.xml') return true;
  return (
    /^(application|text)\/xml$/.test(entity.contentType) &&
    entity.params.name?.toLowerCase() === 'daticert.xml'
  );
}

/** Headers that say a message is certified: it must not be taken for plain mail. */
export function hasCertifiedMarkers(headers: HeaderList): boolean {
  if (headers.has('x-trasporto') || headers.has('x-ricevuta')) return true;
  return headers.fields.some((field) => field.name.startsWith('rem-'));
}
