import { createHash, verify } from 'node:crypto';
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
 * RSA PKCS#1 v1.5, which every PEC provider uses: rsaEncryption takes the SignerInfo's digest
 * algorithm, the sha*WithRSAEncryption OIDs name their own hash.
 */
const RSA_PKCS1_HASH: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.1': null,
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

/**
 * Checks one SignerInfo over the detached content (RFC 5652 5.6): the signer certificate carried in
 * the SignedData, the content against the messageDigest attribute, and the signature over the
 * signed attributes (or over the content when there are none) with the certificate's RSA key.
 */
export function checkSigner(
  certificates: readonly CarriedCertificate[],
  signerInfo: SignerInfo,
  content: Buffer,
): ContentVerdict {
  const signer = certificates.find((certificate) => identifies(signerInfo.sid, certificate));
  if (!signer) return { ok: false, reason: 'Unable to find signer certificate', signer: null };
  const fail = (reason: string): ContentVerdict => ({ ok: false, reason, signer });
  const digest = DIGEST_NAMES[signerInfo.digestAlgorithm];
  if (!digest) return fail(`Unsupported digest algorithm: ${signerInfo.digestAlgorithm}`);
  const fixedHash = RSA_PKCS1_HASH[signerInfo.signatureAlgorithm];
  if (fixedHash === undefined)
    return fail(`Unsupported signature algorithm: ${signerInfo.signatureAlgorithm}`);
  const hash = fixedHash ?? digest;
  try {
    const key = signer.publicKey();
    if (key.asymmetricKeyType !== 'rsa') return fail('signer certificate key is not RSA');
    const signatureOver = (bytes: Uint8Array): boolean =>
      verify(hash, bytes, key, signerInfo.signature);
    const attributes = signerInfo.signedAttributes;
    if (!attributes)
      return matchesAsStoredOrCanonical(content, signatureOver)
        ? { ok: true, signer }
        : fail('signature does not verify');
    const types = new Set(attributes.attributes.map((attribute) => attribute.type));
    if (!types.has(CONTENT_TYPE))
      return fail('Attribute "content-type" is a mandatory attribute for "signed attributes"');
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

function matchesAsStoredOrCanonical(content: Buffer, matches: (bytes: Buffer) => boolean): boolean {
  return matches(content) || (hasBareLineFeed(content) && matches(toCanonicalLineEnds(content)));
}

function identifies(sid: SignerIdentifier, certificate: CarriedCertificate): boolean {
  if (sid.kind === 'key-identifier') return sameBytes(certificate.keyIdentifier, sid.keyIdentifier);
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
