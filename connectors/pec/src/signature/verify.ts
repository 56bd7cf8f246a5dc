import * as asn1js from 'asn1js';
import type { ChainResult, TrustAnchors } from './anchors.js';
import { certificateFingerprint, readDetachedSignedData } from './cms.js';
import { detachedContentEngine, pkijs } from './engine.js';
import type { SignatureCheck, SignerIdentity } from './types.js';

const SIGNING_TIME = '1.2.840.113549.1.9.5';
const DIGEST_NAMES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const MAX_CACHED_CHAINS = 1024;

/**
 * Checks a detached CMS signature over the exact signed bytes. It never throws: every failure is a
 * status with a reason, because a message is recorded whatever its signature says.
 */
export async function verifyDetachedSignature(
  signedBytes: Buffer,
  p7s: Buffer,
  anchors: TrustAnchors | null,
): Promise<SignatureCheck> {
  let signedData: pkijs.SignedData;
  try {
    signedData = readDetachedSignedData(p7s);
  } catch (error) {
    return { status: 'invalid', reason: `smime.p7s is not a CMS SignedData: ${messageOf(error)}` };
  }
  const signerInfo = signedData.signerInfos[0];
  if (!signerInfo) return { status: 'invalid', reason: 'smime.p7s has no signer' };
  const algorithm =
    DIGEST_NAMES[signerInfo.digestAlgorithm.algorithmId] ?? signerInfo.digestAlgorithm.algorithmId;
  const verified = await verifyContent(signedData, signedBytes);
  if (!verified.ok)
    return { status: 'invalid', algorithm, reason: verified.reason, ...signerOf(verified.signer) };
  const checkDate = signingTime(signerInfo) ?? new Date();
  const chain = anchors
    ? await checkChain(signedData, verified.signer, anchors, checkDate)
    : { trusted: false, reason: 'no trust anchors configured' };
  const signer = signerOf(verified.signer);
  return chain.trusted
    ? { status: 'valid', algorithm, ...signer }
    : { status: 'intact-untrusted', algorithm, reason: chain.reason ?? 'untrusted', ...signer };
}

type ContentVerdict =
  | { ok: true; signer: pkijs.Certificate }
  | { ok: false; reason: string; signer: pkijs.Certificate | null };

/**
 * S/MIME signs the canonical (CRLF) form. A message stored with bare LF line ends (some mail stores
 * do that) is tried again in canonical form before it is called tampered.
 */
async function verifyContent(
  signedData: pkijs.SignedData,
  signedBytes: Buffer,
): Promise<ContentVerdict> {
  const first = await verifyOnce(signedData, signedBytes);
  if (first.ok || !hasBareLineFeed(signedBytes)) return first;
  const second = await verifyOnce(signedData, toCanonicalLineEnds(signedBytes));
  return second.ok ? second : first;
}

async function verifyOnce(signedData: pkijs.SignedData, bytes: Buffer): Promise<ContentVerdict> {
  const { engine, data } = detachedContentEngine(bytes);
  try {
    const result = await signedData.verify(
      { signer: 0, data, extendedMode: true, checkChain: false },
      engine,
    );
    const signer = result.signerCertificate ?? null;
    if (!signer) return { ok: false, reason: 'signer certificate not found in smime.p7s', signer };
    return result.signatureVerified
      ? { ok: true, signer }
      : { ok: false, reason: 'signature does not verify', signer };
  } catch (error) {
    const signer =
      error instanceof pkijs.SignedDataVerifyError ? (error.signerCertificate ?? null) : null;
    const reason = error instanceof pkijs.SignedDataVerifyError ? error.message : messageOf(error);
    return {
      ok: false,
      reason: /digest doesn't match/i.test(reason)
        ? 'signed content was modified: digest does not match'
        : reason,
      signer,
    };
  }
}

function hasBareLineFeed(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1))
    if (at === 0 || bytes[at - 1] !== 0x0d) return true;
  return false;
}

function toCanonicalLineEnds(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

async function checkChain(
  signedData: pkijs.SignedData,
  signer: pkijs.Certificate,
  anchors: TrustAnchors,
  checkDate: Date,
): Promise<ChainResult> {
  const certificates = (signedData.certificates ?? []).filter(
    (c): c is pkijs.Certificate => c instanceof pkijs.Certificate,
  );
  const key = chainKey(signer, certificates, checkDate);
  const cached = anchors.chainCache.get(key);
  if (cached) return cached;
  const result = await validateChain(signer, certificates, anchors, checkDate);
  if (anchors.chainCache.size >= MAX_CACHED_CHAINS) anchors.chainCache.clear();
  anchors.chainCache.set(key, result);
  return result;
}

async function validateChain(
  signer: pkijs.Certificate,
  certificates: pkijs.Certificate[],
  anchors: TrustAnchors,
  checkDate: Date,
): Promise<ChainResult> {
  try {
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: [...anchors.certificates],
      certs: [...certificates.filter((c) => c !== signer), signer],
      checkDate,
    });
    const result = await engine.verify();
    return result.result
      ? { trusted: true }
      : { trusted: false, reason: `certificate chain: ${result.resultMessage}` };
  } catch (error) {
    return { trusted: false, reason: `certificate chain: ${messageOf(error)}` };
  }
}

function chainKey(
  signer: pkijs.Certificate,
  certificates: pkijs.Certificate[],
  checkDate: Date,
): string {
  const prints = [signer, ...certificates].map(certificateFingerprint).join(',');
  return `${prints}@${checkDate.toISOString().slice(0, 10)}`;
}

function signingTime(signerInfo: pkijs.SignerInfo): Date | null {
  const attribute = signerInfo.signedAttrs?.attributes.find((a) => a.type === SIGNING_TIME);
  const value = attribute?.values[0];
  if (value instanceof asn1js.UTCTime || value instanceof asn1js.GeneralizedTime)
    return value.toDate();
  return null;
}

function signerOf(certificate: pkijs.Certificate | null): { signer?: SignerIdentity } {
  if (!certificate) return {};
  return {
    signer: {
      subject: distinguishedName(certificate.subject),
      email: rfc822Name(certificate),
      issuer: distinguishedName(certificate.issuer),
      serialNumber: Buffer.from(certificate.serialNumber.valueBlock.valueHexView).toString('hex'),
    },
  };
}

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '1.2.840.113549.1.9.1': 'E',
};

function distinguishedName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${ATTRIBUTE_NAMES[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`)
    .join(', ');
}

function rfc822Name(certificate: pkijs.Certificate): string | null {
  const extension = certificate.extensions?.find((e) => e.extnID === '2.5.29.17');
  const names =
    extension?.parsedValue instanceof pkijs.AltName ? extension.parsedValue.altNames : [];
  const email = names.find((n) => n.type === 1);
  return typeof email?.value === 'string' ? email.value : null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
