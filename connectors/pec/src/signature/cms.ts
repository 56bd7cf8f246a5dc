import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs } from './engine.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const MAX_CACHED_CERTIFICATES = 256;

/** Parsed certificates by the SHA-256 of their DER: a mailbox sees the same few provider certificates. */
const certificateCache = new Map<string, pkijs.Certificate>();

/**
 * Reads a CMS ContentInfo/SignedData into a PKI.js SignedData. The SignerInfo is parsed by PKI.js
 * for each message; certificates are parsed once and reused, since schema-matching a certificate
 * cost more than the rest of the verification together.
 * Throws with the reason when the bytes are not a detached SignedData.
 */
export function readDetachedSignedData(p7s: Uint8Array): pkijs.SignedData {
  const asn1 = asn1js.fromBER(p7s);
  if (asn1.offset === -1) throw new Error(asn1.result.error || 'not BER');
  const contentInfo = children(asn1.result, 'ContentInfo');
  const contentType = contentInfo[0];
  if (!(contentType instanceof asn1js.ObjectIdentifier) || contentType.valueBlock.toString() !== SIGNED_DATA) {
    throw new Error('content type is not signedData');
  }
  const fields = children(children(contentInfo[1], 'ContentInfo content')[0], 'SignedData');
  const encapContentInfo = new pkijs.EncapsulatedContentInfo({ schema: fields[2] });
  // An attached eContent would be verified instead of the MIME part: S/MIME multipart/signed is detached.
  if (encapContentInfo.eContent) throw new Error('signature carries its own content (not detached)');
  const certificateSet = fields.find((field) => isContextTag(field, 0));
  const signerInfos = children(fields[fields.length - 1], 'signerInfos');
  return new pkijs.SignedData({
    version: 1,
    encapContentInfo,
    certificates: certificateSet ? children(certificateSet, 'certificates').filter(isSequence).map(cachedCertificate) : [],
    signerInfos: signerInfos.map((schema) => new pkijs.SignerInfo({ schema })),
  });
}

function children(block: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  const value = (block as asn1js.Constructed | undefined)?.valueBlock?.value;
  if (!block || !block.idBlock.isConstructed || !Array.isArray(value)) throw new Error(`${what} is not a constructed value`);
  return value;
}

function isContextTag(block: asn1js.AsnType, tag: number): boolean {
  return block.idBlock.tagClass === 3 && block.idBlock.tagNumber === tag;
}

function isSequence(block: asn1js.AsnType): boolean {
  return block.idBlock.tagClass === 1 && block.idBlock.tagNumber === 16;
}

function cachedCertificate(block: asn1js.AsnType): pkijs.Certificate {
  const der = block.valueBeforeDecodeView;
  const key = createHash('sha256').update(der).digest('hex');
  let certificate = certificateCache.get(key);
  if (!certificate) {
    certificate = new pkijs.Certificate({ schema: block });
    if (certificateCache.size >= MAX_CACHED_CERTIFICATES) certificateCache.clear();
    certificateCache.set(key, certificate);
  }
  return certificate;
}
