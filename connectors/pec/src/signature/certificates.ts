import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import type { Tlv } from './der.js';
import { pkijs } from './engine.js';
import { signerUsageProblem } from './usage.js';

/** A certificate carried in a SignedData, with what the signer lookup and the signature check need. */
export interface CarriedCertificate {
  readonly certificate: pkijs.Certificate;
  /** SHA-256 of the DER as received. */
  readonly fingerprint: string;
  /** DER of the issuer Name, as encoded in the certificate. */
  readonly issuer: Uint8Array;
  /** Content octets of the serial number INTEGER. */
  readonly serialNumber: Uint8Array;
  /**
   * What a subjectKeyIdentifier sid may name (RFC 5652 5.3): the certificate's
   * subjectKeyIdentifier extension, which a CA derives as it likes, and the SHA-1 of the
   * subjectPublicKey bits (RFC 5280 4.2.1.2 method 1) that signers also write. The sid only
   * picks the certificate: the signature must still verify with its key.
   */
  readonly keyIdentifiers: readonly Buffer[];
  /** Why it may not sign a message (usage.ts); null when it may. Read once per certificate. */
  readonly usageProblem: string | null;
  /** The SubjectPublicKeyInfo DER, turned into a key on first use. */
  readonly publicKey: () => KeyObject;
}

const MAX_CACHED_CERTIFICATES = 256;

/** By the SHA-256 of their DER: a mailbox sees the same few provider certificates. */
const cache = new Map<string, CarriedCertificate>();

/**
 * The certificate at `tlv`, parsed once: PKI.js schema matching of a certificate costs more than
 * the whole rest of a verification, and the chain check needs the PKI.js object anyway.
 */
export function carriedCertificate(bytes: Uint8Array, tlv: Tlv): CarriedCertificate {
  const der = bytes.subarray(tlv.start, tlv.end);
  const fingerprint = createHash('sha256').update(der).digest('hex');
  let carried = cache.get(fingerprint);
  if (!carried) {
    carried = describe(parseCertificate(der), fingerprint);
    if (cache.size >= MAX_CACHED_CERTIFICATES) cache.clear();
    cache.set(fingerprint, carried);
  }
  return carried;
}

function parseCertificate(der: Uint8Array): pkijs.Certificate {
  // A real copy (Buffer's slice() is a view): the cached certificate must not pin the message's memory.
  const asn1 = asn1js.fromBER(Uint8Array.prototype.slice.call(der));
  if (asn1.offset === -1) throw new Error(asn1.result.error || 'not BER');
  return new pkijs.Certificate({ schema: asn1.result });
}

function describe(certificate: pkijs.Certificate, fingerprint: string): CarriedCertificate {
  let key: KeyObject | undefined;
  return {
    certificate,
    fingerprint,
    issuer: new Uint8Array(certificate.issuer.valueBeforeDecode),
    serialNumber: certificate.serialNumber.valueBlock.valueHexView,
    keyIdentifiers: [
      ...(subjectKeyIdentifier(certificate) ?? []),
      createHash('sha1')
        .update(certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
        .digest(),
    ],
    usageProblem: signerUsageProblem(certificate),
    publicKey: () => {
      key ??= createPublicKey({
        key: Buffer.from(certificate.subjectPublicKeyInfo.toSchema().toBER()),
        format: 'der',
        type: 'spki',
      });
      return key;
    },
  };
}

function subjectKeyIdentifier(certificate: pkijs.Certificate): Buffer[] | null {
  const value = certificate.extensions?.find((e) => e.extnID === '2.5.29.14')?.parsedValue;
  return value instanceof asn1js.OctetString ? [Buffer.from(value.valueBlock.valueHexView)] : null;
}
