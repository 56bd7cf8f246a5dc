import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { childrenOf, readTlv, type Tlv } from './der.js';
import { pkijs } from './engine.js';

const SIGNED_DATA_OID = Uint8Array.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);
const MAX_CACHED_CERTIFICATES = 256;

/** Parsed certificates by the SHA-256 of their DER: a mailbox sees the same few provider certificates. */
const certificateCache = new Map<string, pkijs.Certificate>();
const fingerprints = new WeakMap<pkijs.Certificate, string>();

/**
 * Reads a CMS ContentInfo/SignedData into a PKI.js SignedData for PKI.js to verify. Only the small
 * per-message pieces (SignerInfo, EncapsulatedContentInfo) go through PKI.js's schema matching;
 * certificates are located by offset and parsed once, because schema-matching them again for
 * every message cost more than the whole rest of the verification.
 * Throws with the reason when the bytes are not a detached SignedData.
 */
export function readDetachedSignedData(p7s: Uint8Array): pkijs.SignedData {
  const contentInfo = childrenOf(p7s, readTlv(p7s, 0));
  const [contentType, explicitContent] = contentInfo;
  if (
    !contentType ||
    !sameBytes(p7s.subarray(contentType.contentStart, contentType.contentEnd), SIGNED_DATA_OID)
  ) {
    throw new Error('content type is not signedData');
  }
  if (!explicitContent) throw new Error('ContentInfo has no content');
  const signedDataTlv = childrenOf(p7s, explicitContent)[0];
  if (!signedDataTlv) throw new Error('ContentInfo content is empty');
  const fields = childrenOf(p7s, signedDataTlv);
  const encapsulated = fields[2];
  const signerInfoSet = fields[fields.length - 1];
  if (fields.length < 4 || !encapsulated || !signerInfoSet)
    throw new Error('SignedData has too few fields');
  const encapContentInfo = new pkijs.EncapsulatedContentInfo({ schema: parse(p7s, encapsulated) });
  // An attached eContent would be verified instead of the MIME part: S/MIME multipart/signed is detached.
  if (encapContentInfo.eContent)
    throw new Error('signature carries its own content (not detached)');
  const certificateSet = fields.find((field) => field.tagClass === 2 && field.tagNumber === 0);
  return new pkijs.SignedData({
    version: 1,
    encapContentInfo,
    certificates: certificateSet
      ? childrenOf(p7s, certificateSet)
          .filter(isSequence)
          .map((tlv) => cachedCertificate(p7s, tlv))
      : [],
    signerInfos: childrenOf(p7s, signerInfoSet).map(
      (tlv) => new pkijs.SignerInfo({ schema: parse(p7s, tlv) }),
    ),
  });
}

/** SHA-256 of the certificate's DER, as received. */
export function certificateFingerprint(certificate: pkijs.Certificate): string {
  let fingerprint = fingerprints.get(certificate);
  if (!fingerprint) {
    fingerprint = createHash('sha256')
      .update(new Uint8Array(certificate.toSchema().toBER()))
      .digest('hex');
    fingerprints.set(certificate, fingerprint);
  }
  return fingerprint;
}

function parse(bytes: Uint8Array, tlv: Tlv): asn1js.AsnType {
  const asn1 = asn1js.fromBER(bytes.slice(tlv.start, tlv.end));
  if (asn1.offset === -1) throw new Error(asn1.result.error || 'not BER');
  return asn1.result;
}

function isSequence(tlv: Tlv): boolean {
  return tlv.tagClass === 0 && tlv.constructed && tlv.tagNumber === 16;
}

function cachedCertificate(bytes: Uint8Array, tlv: Tlv): pkijs.Certificate {
  const der = bytes.subarray(tlv.start, tlv.end);
  const key = createHash('sha256').update(der).digest('hex');
  let certificate = certificateCache.get(key);
  if (!certificate) {
    certificate = new pkijs.Certificate({ schema: parse(bytes, tlv) });
    if (certificateCache.size >= MAX_CACHED_CERTIFICATES) certificateCache.clear();
    certificateCache.set(key, certificate);
    fingerprints.set(certificate, key);
  }
  return certificate;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
