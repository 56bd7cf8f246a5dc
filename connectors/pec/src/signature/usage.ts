/**
 * What the signer's certificate may be used for. The chain check (PKI.js) judges the
 * certificates above the signer, not the signer's own extensions: a TLS server's certificate, a
 * key for encryption only, or a CA's own key signing mail directly would all pass it. A PEC
 * provider signs with a certificate issued for signing mail (RFC 8550 4.4).
 */
import * as asn1js from 'asn1js';
import { pkijs } from './engine.js';

const KEY_USAGE = '2.5.29.15';
const EXTENDED_KEY_USAGE = '2.5.29.37';
const BASIC_CONSTRAINTS = '2.5.29.19';
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
/** digitalSignature (bit 0) and nonRepudiation (bit 1), the first byte's two high bits. */
const SIGNING_BITS = 0xc0;

/** Why the certificate may not sign a message; null when it may. */
export function signerUsageProblem(certificate: pkijs.Certificate): string | null {
  const extension = (id: string) => certificate.extensions?.find((e) => e.extnID === id);
  const keyUsage = extension(KEY_USAGE)?.parsedValue;
  // RFC 5280 4.2.1.3: present, it limits the key to the uses it lists.
  if (
    keyUsage instanceof asn1js.BitString &&
    !((keyUsage.valueBlock.valueHexView[0] ?? 0) & SIGNING_BITS)
  )
    return 'signer certificate key usage allows no signature (digitalSignature or nonRepudiation)';
  const extended = extension(EXTENDED_KEY_USAGE)?.parsedValue;
  // RFC 5280 4.2.1.12: present, the certificate is for those purposes only.
  if (
    extended instanceof pkijs.ExtKeyUsage &&
    !extended.keyPurposes.some((p) => p === EMAIL_PROTECTION || p === ANY_EXTENDED_KEY_USAGE)
  )
    return `signer certificate is not for e-mail (extended key usage ${extended.keyPurposes.join(', ')})`;
  const constraints = extension(BASIC_CONSTRAINTS)?.parsedValue;
  if (constraints instanceof pkijs.BasicConstraints && constraints.cA)
    return 'signer certificate is a CA certificate: a CA key signs certificates, not messages';
  return null;
}
