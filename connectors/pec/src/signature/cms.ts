import { carriedCertificate, type CarriedCertificate } from './certificates.js';
import {
  childrenOf,
  contentOf,
  isContextTag,
  isUniversal,
  readTlv,
  sameBytes,
  TAG,
  type Tlv,
} from './der.js';
import { readSignerInfo, type SignerInfo } from './signer-info.js';

const SIGNED_DATA_OID = Uint8Array.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);

/** The parts of a SignedData that the signature check uses. */
export interface SignedDataParts {
  certificates: CarriedCertificate[];
  signerInfos: SignerInfo[];
  /** The content it carries (opaque S/MIME); null when detached (multipart/signed). */
  content: Uint8Array | null;
  /** The content octets of eContentType's OID: what the content-type attribute must name. */
  eContentType: Uint8Array;
}

export type DetachedSignedData = Omit<SignedDataParts, 'content'>;

/**
 * Reads a CMS ContentInfo/SignedData by offset with the DER reader: schema-matching the per-message
 * SignerInfo with PKI.js/asn1js cost five times the RSA check itself. Certificates are parsed once
 * and cached (certificates.ts).
 * Throws with the reason when the bytes are not a detached SignedData.
 */
export function readDetachedSignedData(p7s: Uint8Array): DetachedSignedData {
  const { content, ...parts } = readSignedData(p7s);
  // An attached eContent would be verified instead of the MIME part: S/MIME multipart/signed is detached.
  if (content) throw new Error('signature carries its own content (not detached)');
  return parts;
}

/** Reads a SignedData, detached or carrying its content; throws with the reason when it is not one. */
export function readSignedData(p7s: Uint8Array): SignedDataParts {
  const [contentType, explicitContent] = childrenOf(p7s, readTlv(p7s, 0));
  if (!contentType || !sameBytes(contentOf(p7s, contentType), SIGNED_DATA_OID))
    throw new Error('content type is not signedData');
  if (!explicitContent) throw new Error('ContentInfo has no content');
  const signedDataTlv = childrenOf(p7s, explicitContent)[0];
  if (!signedDataTlv) throw new Error('ContentInfo content is empty');
  const fields = childrenOf(p7s, signedDataTlv);
  const encapsulated = fields[2];
  const signerInfoSet = fields[fields.length - 1];
  if (fields.length < 4 || !encapsulated || !signerInfoSet)
    throw new Error('SignedData has too few fields');
  const [eContentType, eContent] = childrenOf(p7s, encapsulated);
  if (!eContentType || !isUniversal(eContentType, TAG.objectIdentifier))
    throw new Error('EncapsulatedContentInfo has no content type');
  const certificateSet = fields.find((field) => isContextTag(field, 0) && field.constructed);
  return {
    certificates: certificateSet
      ? childrenOf(p7s, certificateSet)
          .filter((tlv) => isUniversal(tlv, TAG.sequence) && tlv.constructed)
          .map((tlv) => carriedCertificate(p7s, tlv))
      : [],
    signerInfos: childrenOf(p7s, signerInfoSet).map((tlv) => readSignerInfo(p7s, tlv)),
    content: eContent ? encapsulatedOctets(p7s, eContent) : null,
    eContentType: contentOf(p7s, eContentType),
  };
}

/**
 * The octets of eContent ([0] EXPLICIT OCTET STRING). BER (OpenSSL streaming) may split the
 * OCTET STRING into a constructed one of chunks: they are joined.
 */
function encapsulatedOctets(p7s: Uint8Array, explicit: Tlv): Uint8Array {
  const octetString = childrenOf(p7s, explicit)[0];
  if (!octetString || !isUniversal(octetString, TAG.octetString))
    throw new Error('eContent is not an OCTET STRING');
  if (!octetString.constructed) return contentOf(p7s, octetString);
  return Buffer.concat(
    childrenOf(p7s, octetString).map((chunk) => {
      if (!isUniversal(chunk, TAG.octetString) || chunk.constructed)
        throw new Error('eContent chunk is not a primitive OCTET STRING');
      return contentOf(p7s, chunk);
    }),
  );
}
