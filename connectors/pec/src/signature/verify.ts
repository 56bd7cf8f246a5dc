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
  at: Date = new Date(),
): Promise<SignatureCheck> {
  let signedData: DetachedSignedData;
  try {
    signedData = readDetachedSignedData(p7s);
  } catch (error) {
    return { status: 'invalid', reason: `smime.p7s is not a CMS SignedData: ${messageOf(error)}` };
  }
  return checkSignedData(signedData, signedBytes, anchors, at);
}

/**
 * Opaque S/MIME (application/pkcs7-mime): the SignedData carries the signed entity itself. Returns
 * the check and the entity, which is what the message says; null when it carries none or cannot
 * be read. Never throws, as verifyDetachedSignature.
 */
export async function openOpaqueSignature(
  p7m: Buffer,
  anchors: TrustAnchors | null,
  at: Date = new Date(),
): Promise<{ check: SignatureCheck; content: Buffer | null }> {
  const opened = openedContent(p7m);
  if ('reason' in opened)
    return { check: { status: 'invalid', reason: opened.reason }, content: null };
  const content = Buffer.from(opened.signedData.content);
  return { check: await checkSignedData(opened.signedData, content, anchors, at), content };
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

/**
 * `at`: when the certificates must be valid, a time the signer does not choose (when the message
 * was received). Its signingTime attribute is written by whoever holds the key: a key that
 * leaked from a certificate since expired would sign receipts dated to when it was valid.
 */
async function checkSignedData(
  signedData: DetachedSignedData,
  signedBytes: Buffer,
  anchors: TrustAnchors | null,
  at: Date,
): Promise<SignatureCheck> {
  const signerInfo = signedData.signerInfos[0];
  if (!signerInfo) return { status: 'invalid', reason: 'smime.p7s has no signer' };
  const algorithm = DIGEST_NAMES[signerInfo.digestAlgorithm] ?? signerInfo.digestAlgorithm;
  const verified = checkSigner(
    signedData.certificates,
    signerInfo,
    signedBytes,
    signedData.eContentType,
  );
  if (!verified.ok)
    return { status: 'invalid', algorithm, reason: verified.reason, ...signerOf(verified.signer) };
  const usage = verified.signer.usageProblem;
  const chain = usage
    ? { trusted: false, reason: usage }
    : anchors
      ? await checkChain(signedData.certificates, verified.signer, anchors, at)
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
  const key = [signer, ...certificates].map((c) => c.fingerprint).join(',');
  const time = checkDate.getTime();
  const cached = anchors.chainCache.get(key);
  if (cached && cached.from <= time && time <= cached.until) return cached.result;
  const { path, ...result } = await validateChain(
    signer.certificate,
    certificates.map((c) => c.certificate),
    anchors,
    checkDate,
  );
  // Good only while every certificate of the path is valid (notAfter is an instant, not a
  // day); without a path, while the message's own are. A result outside that window is about
  // the time, not the chain, and is not kept.
  const window = validityOf(
    path ?? [signer.certificate, ...certificates.map((c) => c.certificate)],
  );
  if (window.from <= time && time <= window.until) {
    if (anchors.chainCache.size >= MAX_CACHED_CHAINS) anchors.chainCache.clear();
    anchors.chainCache.set(key, { result, ...window });
  }
  return result;
}

/** The instants every one of `certificates` is valid at. */
function validityOf(certificates: pkijs.Certificate[]): { from: number; until: number } {
  return {
    from: Math.max(...certificates.map((c) => c.notBefore.value.getTime())),
    until: Math.min(...certificates.map((c) => c.notAfter.value.getTime())),
  };
}

/**
 * PKI.js builds every path from the signer up, recursively, with no record of the certificates
 * already on it: two CA certificates a message carries that issue each other (anyone can make
 * them) sent it round for ever, its worker growing towards the heap limit and the mailbox waiting.
 * A provider's chain is a few certificates; these bound the search far above that.
 */
const MAX_CARRIED_CERTIFICATES = 32;
const MAX_ISSUER_LOOKUPS = 64;

/** The result, and the path from the signer to an anchor when one was found. */
async function validateChain(
  signer: pkijs.Certificate,
  certificates: pkijs.Certificate[],
  anchors: TrustAnchors,
  checkDate: Date,
): Promise<ChainResult & { path?: pkijs.Certificate[] }> {
  if (certificates.length > MAX_CARRIED_CERTIFICATES)
    return {
      trusted: false,
      reason: `certificate chain: the signature carries ${certificates.length} certificates, more than the ${MAX_CARRIED_CERTIFICATES} any chain needs: not built`,
    };
  try {
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: [...anchors.certificates],
      certs: [...certificates.filter((c) => c !== signer), signer],
      checkDate,
      findIssuer: boundedIssuerSearch(),
    });
    const result = await engine.verify();
    if (!result.result)
      return { trusted: false, reason: `certificate chain: ${result.resultMessage}` };
    const path = result.certificatePath ?? [signer];
    const tooLong = pathLengthProblem(path, signer);
    return tooLong
      ? { trusted: false, reason: `certificate chain: ${tooLong}`, path }
      : { trusted: true, path };
  } catch (error) {
    return { trusted: false, reason: `certificate chain: ${messageOf(error)}` };
  }
}

/** PKI.js's own issuer lookup, given up after MAX_ISSUER_LOOKUPS within one validation. */
function boundedIssuerSearch(): pkijs.CertificateChainValidationEngineParameters['findIssuer'] {
  let lookups = 0;
  return (certificate, engine, crypto) => {
    lookups += 1;
    if (lookups > MAX_ISSUER_LOOKUPS)
      throw new Error(
        `no path found within ${MAX_ISSUER_LOOKUPS} issuer lookups (certificates that issue one another?)`,
      );
    return engine.defaultFindIssuer(certificate, engine, crypto);
  };
}

/**
 * RFC 5280 4.2.1.9: a CA's pathLenConstraint bounds the CA certificates below it, which PKI.js
 * reads but does not check: a CA allowed to issue end-entity certificates only must not be
 * able to make another CA whose certificates then pass as the provider's.
 */
function pathLengthProblem(path: pkijs.Certificate[], signer: pkijs.Certificate): string | null {
  // From the signer up to the anchor, whichever way PKI.js listed it.
  const upward = path[0] === signer ? path : [...path].reverse();
  for (const [index, certificate] of upward.entries()) {
    const constraints = certificate.extensions?.find((e) => e.extnID === '2.5.29.19')?.parsedValue;
    const limit =
      constraints instanceof pkijs.BasicConstraints ? constraints.pathLenConstraint : undefined;
    if (typeof limit !== 'number') continue;
    // The CA certificates between it and the signer, a self-issued one not counting.
    const below = upward.slice(1, index).filter((c) => !selfIssued(c)).length;
    if (below > limit)
      return `${distinguishedName(certificate.subject)} allows ${limit} CA certificate(s) below it, the path has ${below}`;
  }
  return null;
}

function selfIssued(certificate: pkijs.Certificate): boolean {
  return certificate.subject.isEqual(certificate.issuer);
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
