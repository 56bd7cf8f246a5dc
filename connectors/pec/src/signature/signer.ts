import {
  constants,
  createHash,
  verify,
  type KeyObject,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import type { CarriedCertificate } from './certificates.js';
import { contentOf, readTlv, sameBytes } from './der.js';
import { pkijs } from './engine.js';
import { hasBareLineFeed, toCanonicalLineEnds } from './line-ends.js';
import type { SignerIdentifier, SignerInfo } from './signer-info.js';

export type ContentVerdict =
  | { ok: true; signer: CarriedCertificate }
  | { ok: false; reason: string; signer: CarriedCertificate | null };

const CONTENT_TYPE = '1.2.840.113549.1.9.3';
const MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
export const DIGEST_NAMES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
/**
 * How a signature value is checked: RSA PKCS#1 v1.5 (what PEC providers use), ECDSA (DER
 * signature values) and RSASSA-PSS, as eIDAS trust services may sign. `null` as hash: the
 * algorithm names the key only (rsaEncryption, id-ecPublicKey) and the digest algorithm applies.
 */
interface Scheme {
  key: 'rsa' | 'ec';
  hash: string | null;
  pss?: true;
}

const SCHEMES: Readonly<Record<string, Scheme>> = {
  '1.2.840.113549.1.1.1': { key: 'rsa', hash: null },
  '1.2.840.113549.1.1.5': { key: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { key: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { key: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { key: 'rsa', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { key: 'rsa', hash: null, pss: true },
  '1.2.840.10045.2.1': { key: 'ec', hash: null },
  '1.2.840.10045.4.1': { key: 'ec', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { key: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { key: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { key: 'ec', hash: 'sha512' },
};
const MGF1 = '1.2.840.113549.1.1.8';

/**
 * Checks one SignerInfo over the detached content (RFC 5652 5.6): the signer certificate carried in
 * the SignedData, the content against the messageDigest attribute, and the signature over the
 * signed attributes (or over the content when there are none) with the certificate's key.
 */
export function checkSigner(
  certificates: readonly CarriedCertificate[],
  signerInfo: SignerInfo,
  content: Buffer,
  eContentType: Uint8Array,
): ContentVerdict {
  const signer = certificates.find((certificate) => identifies(signerInfo.sid, certificate));
  if (!signer) return { ok: false, reason: 'Unable to find signer certificate', signer: null };
  const fail = (reason: string): ContentVerdict => ({ ok: false, reason, signer });
  const digest = DIGEST_NAMES[signerInfo.digestAlgorithm];
  if (!digest) return fail(`Unsupported digest algorithm: ${signerInfo.digestAlgorithm}`);
  const scheme = SCHEMES[signerInfo.signatureAlgorithm];
  if (!scheme) return fail(`Unsupported signature algorithm: ${signerInfo.signatureAlgorithm}`);
  try {
    const key = signer.publicKey();
    const keyType = key.asymmetricKeyType === 'rsa-pss' ? 'rsa' : key.asymmetricKeyType;
    if (keyType !== scheme.key)
      return fail(
        `signer certificate key is ${key.asymmetricKeyType}, the signature is ${scheme.key}`,
      );
    const verifier = scheme.pss
      ? pssVerifier(signerInfo.signatureParameters, key)
      : { hash: scheme.hash ?? digest, key };
    if (typeof verifier === 'string') return fail(verifier);
    const signatureOver = (bytes: Uint8Array): boolean =>
      verify(verifier.hash, bytes, verifier.key, signerInfo.signature);
    const attributes = signerInfo.signedAttributes;
    if (!attributes)
      return matchesAsStoredOrCanonical(content, signatureOver)
        ? { ok: true, signer }
        : fail('signature does not verify');
    const contentType = attributes.attributes.find((a) => a.type === CONTENT_TYPE)?.values[0];
    if (!contentType)
      return fail('Attribute "content-type" is a mandatory attribute for "signed attributes"');
    // RFC 5652 11.1: it names what was signed; another than eContentType signs something else.
    if (!sameBytes(contentOf(contentType, readTlv(contentType, 0)), eContentType))
      return fail('Attribute "content-type" does not name the signed content type');
    const messageDigest = attributes.attributes.find((a) => a.type === MESSAGE_DIGEST)?.values[0];
    if (!messageDigest)
      return fail('Attribute "message-digest" is a mandatory attribute for "signed attributes"');
    const expected = contentOf(messageDigest, readTlv(messageDigest, 0));
    const digestMatches = (bytes: Uint8Array): boolean =>
      sameBytes(createHash(digest).update(bytes).digest(), expected);
    if (!matchesAsStoredOrCanonical(content, digestMatches))
      return fail('signed content was modified: digest does not match');
    return signatureOver(attributes.encoded)
      ? { ok: true, signer }
      : fail('signature does not verify');
  } catch (error) {
    return fail(
      `Error during verification: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * RSASSA-PSS parameters (RFC 4055): the hash, MGF1 over the same hash (what node:crypto
 * implements) and the salt length; a reason when they cannot be checked here.
 */
function pssVerifier(
  parameters: Uint8Array | undefined,
  key: KeyObject,
): { hash: string; key: VerifyKeyObjectInput } | string {
  // Absent parameters mean every default: SHA-1, MGF1 with SHA-1, 20 bytes of salt.
  let params = new pkijs.RSASSAPSSParams();
  if (parameters) {
    const asn1 = asn1js.fromBER(parameters);
    if (asn1.offset === -1) return 'RSASSA-PSS parameters are not DER';
    try {
      params = new pkijs.RSASSAPSSParams({ schema: asn1.result });
    } catch (error) {
      return `RSASSA-PSS parameters: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const hash = DIGEST_NAMES[params.hashAlgorithm.algorithmId];
  if (!hash) return `Unsupported RSASSA-PSS hash: ${params.hashAlgorithm.algorithmId}`;
  const mgf = params.maskGenAlgorithm;
  const mgfHash =
    mgf.algorithmParams instanceof asn1js.Sequence
      ? new pkijs.AlgorithmIdentifier({ schema: mgf.algorithmParams }).algorithmId
      : '1.3.14.3.2.26';
  if (mgf.algorithmId !== MGF1 || DIGEST_NAMES[mgfHash] !== hash)
    return 'RSASSA-PSS with a mask generation other than MGF1 over its own hash is not supported';
  if (params.trailerField !== 1) return 'RSASSA-PSS trailer field is not 1';
  return {
    hash,
    key: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength },
  };
}

function matchesAsStoredOrCanonical(content: Buffer, matches: (bytes: Buffer) => boolean): boolean {
  return matches(content) || (hasBareLineFeed(content) && matches(toCanonicalLineEnds(content)));
}

function identifies(sid: SignerIdentifier, certificate: CarriedCertificate): boolean {
  if (sid.kind === 'key-identifier')
    return certificate.keyIdentifiers.some((id) => sameBytes(id, sid.keyIdentifier));
  if (!sameBytes(certificate.serialNumber, sid.serialNumber)) return false;
  return sameBytes(certificate.issuer, sid.issuer) || sameName(certificate, sid.issuer);
}

/**
 * RFC 5280 name comparison (case and spaces folded) for an issuer encoded differently from the
 * certificate's: rare, so PKI.js parses it only then.
 */
function sameName(certificate: CarriedCertificate, issuer: Uint8Array): boolean {
  const asn1 = asn1js.fromBER(issuer);
  if (asn1.offset === -1) return false;
  try {
    return certificate.certificate.issuer.isEqual(
      new pkijs.RelativeDistinguishedNames({ schema: asn1.result }),
    );
  } catch {
    return false;
  }
}
