import * as asn1js from 'asn1js';
import { childrenOf, contentOf, isContextTag, isUniversal, oidOf, TAG, type Tlv } from './der.js';

const SIGNING_TIME = '1.2.840.113549.1.9.5';

/** Who signed: IssuerAndSerialNumber, or a subjectKeyIdentifier (RFC 5652 5.3). */
export type SignerIdentifier =
  | { kind: 'issuer-and-serial'; issuer: Uint8Array; serialNumber: Uint8Array }
  | { kind: 'key-identifier'; keyIdentifier: Uint8Array };

export interface SignedAttribute {
  type: string;
  /** The DER of each value, tag included. */
  values: Uint8Array[];
}

export interface SignerInfo {
  sid: SignerIdentifier;
  digestAlgorithm: string;
  signatureAlgorithm: string;
  signature: Uint8Array;
  /**
   * The signed attributes as they travelled, re-tagged as the explicit SET OF that is signed
   * (RFC 5652 5.4); absent when the signature is over the content itself.
   */
  signedAttributes?: { encoded: Uint8Array; attributes: SignedAttribute[] };
  /** The signingTime attribute: the day the chain is checked for. */
  signingTime?: Date;
}

/** Reads one SignerInfo of a SignedData; throws naming the field that is not what RFC 5652 says. */
export function readSignerInfo(bytes: Uint8Array, tlv: Tlv): SignerInfo {
  if (!isUniversal(tlv, TAG.sequence) || !tlv.constructed)
    throw new Error('SignerInfo is not a SEQUENCE');
  const fields = childrenOf(bytes, tlv);
  const [version, sid, digestAlgorithm] = fields;
  if (!version || !isUniversal(version, TAG.integer))
    throw new Error('SignerInfo version is not an INTEGER');
  if (!sid || !digestAlgorithm) throw new Error('SignerInfo has too few fields');
  const signed = fields[3] !== undefined && isContextTag(fields[3], 0);
  const [signedAttributes, signatureAlgorithm, signature] = signed
    ? fields.slice(3, 6)
    : [undefined, ...fields.slice(3, 5)];
  if (!signatureAlgorithm || !signature) throw new Error('SignerInfo has too few fields');
  if (!isUniversal(signature, TAG.octetString) || signature.constructed)
    throw new Error('SignerInfo signature is not an OCTET STRING');
  const attributes = signedAttributes && readSignedAttributes(bytes, signedAttributes);
  const signingTime = attributes && readSigningTime(attributes.attributes);
  return {
    sid: readSignerIdentifier(bytes, sid),
    digestAlgorithm: algorithmOf(bytes, digestAlgorithm, 'digestAlgorithm'),
    signatureAlgorithm: algorithmOf(bytes, signatureAlgorithm, 'signatureAlgorithm'),
    signature: contentOf(bytes, signature),
    ...(attributes && { signedAttributes: attributes }),
    ...(signingTime && { signingTime }),
  };
}

function readSignerIdentifier(bytes: Uint8Array, sid: Tlv): SignerIdentifier {
  if (isContextTag(sid, 0)) {
    const keyIdentifier = sid.constructed ? childrenOf(bytes, sid)[0] : sid;
    if (!keyIdentifier) throw new Error('SignerInfo subjectKeyIdentifier is empty');
    return { kind: 'key-identifier', keyIdentifier: contentOf(bytes, keyIdentifier) };
  }
  if (!isUniversal(sid, TAG.sequence) || !sid.constructed)
    throw new Error('SignerInfo sid is neither IssuerAndSerialNumber nor subjectKeyIdentifier');
  const [issuer, serialNumber] = childrenOf(bytes, sid);
  if (!issuer || !isUniversal(issuer, TAG.sequence) || !issuer.constructed)
    throw new Error('SignerInfo issuer is not a Name');
  if (!serialNumber || !isUniversal(serialNumber, TAG.integer) || serialNumber.constructed)
    throw new Error('SignerInfo serialNumber is not an INTEGER');
  return {
    kind: 'issuer-and-serial',
    issuer: bytes.subarray(issuer.start, issuer.end),
    serialNumber: contentOf(bytes, serialNumber),
  };
}

function algorithmOf(bytes: Uint8Array, tlv: Tlv, field: string): string {
  const algorithm =
    isUniversal(tlv, TAG.sequence) && tlv.constructed ? childrenOf(bytes, tlv)[0] : undefined;
  if (!algorithm || !isUniversal(algorithm, TAG.objectIdentifier))
    throw new Error(`SignerInfo ${field} is not an AlgorithmIdentifier`);
  return oidOf(bytes, algorithm);
}

function readSignedAttributes(
  bytes: Uint8Array,
  tlv: Tlv,
): { encoded: Uint8Array; attributes: SignedAttribute[] } {
  if (!tlv.constructed) throw new Error('SignerInfo signedAttrs is not a SET OF Attribute');
  const attributes = childrenOf(bytes, tlv).map((attribute) => {
    const [type, values] =
      isUniversal(attribute, TAG.sequence) && attribute.constructed
        ? childrenOf(bytes, attribute)
        : [];
    if (!type || !values || !isUniversal(values, TAG.set) || !values.constructed)
      throw new Error('SignerInfo signed attribute is not an Attribute');
    return {
      type: oidOf(bytes, type),
      values: childrenOf(bytes, values).map((value) => bytes.subarray(value.start, value.end)),
    };
  });
  if (attributes.length === 0) throw new Error('SignerInfo signedAttrs is empty');
  // A copy: `bytes` may be a Buffer, whose slice() would share memory with the caller's signature.
  const encoded = Uint8Array.prototype.slice.call(bytes, tlv.start, tlv.end);
  encoded[0] = 0x31;
  return { encoded, attributes };
}

/** Throws on a time value asn1js cannot read, like the rest of a malformed SignerInfo. */
function readSigningTime(attributes: SignedAttribute[]): Date | undefined {
  const value = attributes.find((attribute) => attribute.type === SIGNING_TIME)?.values[0];
  if (!value) return undefined;
  const time = asn1js.fromBER(value).result;
  if (!(time instanceof asn1js.UTCTime || time instanceof asn1js.GeneralizedTime)) return undefined;
  const date = time.toDate();
  return Number.isNaN(date.getTime()) ? undefined : date;
}
