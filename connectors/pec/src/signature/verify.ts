import type { ChainResult, TrustAnchors } from './anchors.js';
import type { CarriedCertificate } from './certificates.js';
import {
  readDetachedSignedData,
  readSignedData,
  type DetachedSignedData,
  type SignedDataParts,
} from './cms.js';
import { pkijs } from './engine.js';
import { checkSigner, DIGEST_NAMES } from './signer.js';
import type { SignatureCheck, SignerIdentity } from './types.js';

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
  let signedData: DetachedSignedData;
  try {
    signedData = readDetachedSignedData(p7s);
  } catch (error) {
    return { status: 'invalid', reason: `smime.p7s is not a CMS SignedData: ${messageOf(error)}` };
  }
  return checkSignedData(signedData, signedBytes, anchors);
}

/**
 * Opaque S/MIME (application/pkcs7-mime): the SignedData carries the signed entity itself. Returns
 * the check and the entity, which is what the message says; null when it carries none or cannot
 * be read. Never throws, as verifyDetachedSignature.
 */
export async function openOpaqueSignature(
  p7m: Buffer,
  anchors: TrustAnchors | null,
): Promise<{ check: SignatureCheck; content: Buffer | null }> {
  const opened = openedContent(p7m);
  if ('reason' in opened)
    return { check: { status: 'invalid', reason: opened.reason }, content: null };
  const content = Buffer.from(opened.signedData.content);
  return { check: await checkSignedData(opened.signedData, content, anchors), content };
}

/** The signed entity an opaque S/MIME message carries, unverified (the parse verified it). */
export function opaqueContent(p7m: Buffer): Buffer | null {
  const opened = openedContent(p7m);
  return 'reason' in opened ? null : Buffer.from(opened.signedData.content);
}

function openedContent(
  p7m: Buffer,
): { signedData: SignedDataParts & { content: Uint8Array } } | { reason: string } {
  let signedData: SignedDataParts;
  try {
    signedData = readSignedData(p7m);
  } catch (error) {
    return { reason: `application/pkcs7-mime is not a CMS SignedData: ${messageOf(error)}` };
  }
  const { content } = signedData;
  if (!content) return { reason: 'application/pkcs7-mime carries no signed content' };
  return { signedData: { ...signedData, content } };
}

/**
 * The reason of an `intact-untrusted` signature checked with nothing to check it against: the
 * installation configured no trust anchors (not a signer that failed them).
 */
export const NO_TRUST_ANCHORS = 'no trust anchors configured';

async function checkSignedData(
  signedData: DetachedSignedData,
  signedBytes: Buffer,
  anchors: TrustAnchors | null,
): Promise<SignatureCheck> {
  const signerInfo = signedData.signerInfos[0];
  if (!signerInfo) return { status: 'invalid', reason: 'smime.p7s has no signer' };
  const algorithm = DIGEST_NAMES[signerInfo.digestAlgorithm] ?? signerInfo.digestAlgorithm;
  const verified = checkSigner(signedData.certificates, signerInfo, signedBytes);
  if (!verified.ok)
    return { status: 'invalid', algorithm, reason: verified.reason, ...signerOf(verified.signer) };
  const checkDate = signerInfo.signingTime ?? new Date();
  const chain = anchors
    ? await checkChain(signedData.certificates, verified.signer, anchors, checkDate)
    : { trusted: false, reason: NO_TRUST_ANCHORS };
  const signer = signerOf(verified.signer);
  return chain.trusted
    ? { status: 'valid', algorithm, ...signer }
    : { status: 'intact-untrusted', algorithm, reason: chain.reason ?? 'untrusted', ...signer };
}

async function checkChain(
  certificates: readonly CarriedCertificate[],
  signer: CarriedCertificate,
  anchors: TrustAnchors,
  checkDate: Date,
): Promise<ChainResult> {
  const key = `${[signer, ...certificates].map((c) => c.fingerprint).join(',')}@${checkDate.toISOString().slice(0, 10)}`;
  const cached = anchors.chainCache.get(key);
  if (cached) return cached;
  const result = await validateChain(
    signer.certificate,
    certificates.map((c) => c.certificate),
    anchors,
    checkDate,
  );
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

function signerOf(carried: CarriedCertificate | null): { signer?: SignerIdentity } {
  if (!carried) return {};
  const { certificate } = carried;
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
