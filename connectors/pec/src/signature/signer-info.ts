import {
  childrenOf,
  contentOf,
  isContextTag,
  isUniversal,
  oidOf,
  readTlv,
  TAG,
  type Tlv,
} from './der.js';

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
  /** The signature algorithm's parameters (DER), when it has any besides NULL: RSASSA-PSS's. */
  signatureParameters?: Uint8Array;
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
  const signatureParameters = parametersOf(bytes, signatureAlgorithm);
  return {
    sid: readSignerIdentifier(bytes, sid),
    digestAlgorithm: algorithmOf(bytes, digestAlgorithm, 'digestAlgorithm'),
    signatureAlgorithm: algorithmOf(bytes, signatureAlgorithm, 'signatureAlgorithm'),
    signature: contentOf(bytes, signature),
    ...(signatureParameters && { signatureParameters }),
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

/** An AlgorithmIdentifier's parameters as DER, or undefined when absent or NULL. */
function parametersOf(bytes: Uint8Array, tlv: Tlv): Uint8Array | undefined {
  const parameters = childrenOf(bytes, tlv)[1];
  if (!parameters || isUniversal(parameters, TAG.null)) return undefined;
  return bytes.subarray(parameters.start, parameters.end);
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

/** An unreadable signing time counts as absent: the chain is then checked at the current time. */
function readSigningTime(attributes: SignedAttribute[]): Date | undefined {
  const value = attributes.find((attribute) => attribute.type === SIGNING_TIME)?.values[0];
  if (!value) return undefined;
  try {
    return derTime(value, readTlv(value, 0));
  } catch {
    return undefined;
  }
}

const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
/** YYMMDDHHMM[SS] or YYYYMMDDHHMM[SS][.fff], then Z or a ±HHMM offset (BER allows both). */
const TIME_TEXT = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})$/;

/**
 * A signing-time value (RFC 5652 11.3): UTCTime, years 1950-2049, or GeneralizedTime. Read by
 * hand: a generic ASN.1 decoder for these 15 bytes cost a tenth of a whole signature check.
 */
export function derTime(bytes: Uint8Array, tlv: Tlv): Date | undefined {
  if (tlv.tagClass !== 0 || (tlv.tagNumber !== UTC_TIME && tlv.tagNumber !== GENERALIZED_TIME))
    return undefined;
  const text = Buffer.from(contentOf(bytes, tlv)).toString('latin1');
  const match = TIME_TEXT.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  if ((year!.length === 2) !== (tlv.tagNumber === UTC_TIME)) return undefined;
  const fullYear =
    year!.length === 4 ? Number(year) : Number(year) + (Number(year) < 50 ? 2000 : 1900);
  const millis = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
  const offsetMinutes =
    zone === 'Z'
      ? 0
      : (zone![0] === '-' ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(3)));
  const time =
    Date.UTC(
      fullYear,
      Number(month) - 1,
      Number(day),
      Number(hour),
      Number(minute),
      Number(second ?? 0),
      millis,
    ) -
    offsetMinutes * 60_000;
  return Number.isNaN(time) ? undefined : new Date(time);
}
