import * as asn1js from 'asn1js';
import { pkijs } from './engine.js';

/** Parsed trust anchors plus the chain results already computed against them. */
export interface TrustAnchors {
  readonly certificates: readonly pkijs.Certificate[];
  /**
   * Keyed by the certificates a message carries: a provider signs thousands of messages with one
   * certificate. Each result holds for the instants every certificate involved is valid at.
   */
  readonly chainCache: Map<string, CachedChain>;
}

export interface ChainResult {
  trusted: boolean;
  reason?: string;
}

export interface CachedChain {
  result: ChainResult;
  /** The latest notBefore and the earliest notAfter of the certificates involved. */
  from: number;
  until: number;
}

/** What a caller may pass: parsed anchors, or certificates as PEM text or DER bytes (a PEM may hold several). */
export type TrustAnchorSource = TrustAnchors | ReadonlyArray<string | Uint8Array>;

const loaded = new WeakMap<object, TrustAnchors>();

/** Parses certificates; throws naming the index of a certificate that cannot be read (configuration error). */
export function loadTrustAnchors(sources: ReadonlyArray<string | Uint8Array>): TrustAnchors {
  const certificates = sources.flatMap((source, index) =>
    toDerList(source).map((der) => parseCertificate(der, index)),
  );
  return { certificates, chainCache: new Map() };
}

export function resolveTrustAnchors(source: TrustAnchorSource | undefined): TrustAnchors | null {
  if (!source) return null;
  if (!Array.isArray(source)) return source as TrustAnchors;
  let anchors = loaded.get(source);
  if (!anchors) {
    anchors = loadTrustAnchors(source);
    loaded.set(source, anchors);
  }
  return anchors;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

function toDerList(source: string | Uint8Array): Uint8Array[] {
  const text = typeof source === 'string' ? source : null;
  const maybePem = text ?? (source[0] === 0x2d ? Buffer.from(source).toString('latin1') : null);
  if (maybePem === null) return [source as Uint8Array];
  return [...maybePem.matchAll(PEM_BLOCK)].map((match) => Buffer.from(match[1] ?? '', 'base64'));
}

function parseCertificate(der: Uint8Array, index: number): pkijs.Certificate {
  const asn1 = asn1js.fromBER(der);
  if (asn1.offset === -1) throw new Error(`trust anchor ${index} is not a DER or PEM certificate`);
  try {
    return new pkijs.Certificate({ schema: asn1.result });
  } catch (error) {
    throw new Error(
      `trust anchor ${index} is not an X.509 certificate: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
