import { describe, expect, it } from 'vitest';
import { loadTrustAnchors } from '../anchors.js';
import { verifyDetachedSignature } from '../verify.js';
import { identityOf, issueCertificate, KEY_USAGE, signCustom } from './builders.test-support.js';

const CONTENT = Buffer.from('Content-Type: text/plain\r\n\r\nricevuta\r\n', 'latin1');

/**
 * RFC 5280 4.2.1.9 / 6.1.4 (l)-(m): pathLenConstraint gives the maximum number of non-self-issued
 * intermediate CA certificates that may follow a CA certificate in a path. PKI.js 4's
 * CertificateChainValidationEngine (the whole of verify.ts validateChain) never reads
 * pathLenConstraint, so a CA limited to issuing end-entity certificates (as an issuing CA such
 * as AgID CA1 is, below the Actalis root) can mint a sub-CA whose provider certificates are
 * `valid`.
 */
describe('basicConstraints pathLenConstraint', () => {
  it('refuses a sub-CA issued by a CA with pathLenConstraint 0', async () => {
    const root = issueCertificate({ subject: 'Review Root CA', cA: true, keyUsage: KEY_USAGE.ca });
    const issuing = issueCertificate({
      subject: 'Review Issuing CA',
      issuer: root,
      cA: true,
      pathLenConstraint: 0,
      keyUsage: KEY_USAGE.ca,
    });
    const rogue = issueCertificate({
      subject: 'Rogue Sub CA',
      issuer: issuing,
      cA: true,
      keyUsage: KEY_USAGE.ca,
    });
    const signer = issueCertificate({
      subject: 'posta-certificata@pec.provider.test',
      issuer: rogue,
      cA: false,
      keyUsage: KEY_USAGE.signing,
      email: 'posta-certificata@pec.provider.test',
    });
    const anchors = loadTrustAnchors([root.der]);
    // Control: the issuing CA's own end-entity certificate is fine.
    const direct = issueCertificate({
      subject: 'posta-certificata@pec.ok.test',
      issuer: issuing,
      cA: false,
      keyUsage: KEY_USAGE.signing,
    });
    expect(
      (
        await verifyDetachedSignature(
          CONTENT,
          signCustom(CONTENT, identityOf(direct, [issuing])),
          anchors,
        )
      ).status,
    ).toBe('valid');
    const check = await verifyDetachedSignature(
      CONTENT,
      signCustom(CONTENT, identityOf(signer, [rogue, issuing])),
      anchors,
    );
    expect(check.status).not.toBe('valid');
  });
});
