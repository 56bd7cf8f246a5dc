import { createPrivateKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrustAnchors, type TrustAnchors } from '../anchors.js';
import { verifyDetachedSignature } from '../verify.js';
import { createTestCa, signDetached, type TestCa } from '../../testkit/index.js';
import {
  identityOf,
  issueCertificate,
  KEY_USAGE,
  signCustom,
  type Issued,
} from './builders.test-support.js';

const CONTENT = Buffer.from(
  'Content-Type: application/xml; name="daticert.xml"\r\n\r\n<postacert tipo="avvenuta-consegna"/>\r\n',
  'latin1',
);
const SIGNED_AT = new Date(Date.UTC(2026, 10, 2, 9, 30));

/**
 * Nothing checks what the signer certificate may be used for: verify.ts validates the chain with
 * PKI.js, whose CertificateChainValidationEngine checks keyUsage/basicConstraints of the
 * *intermediates* only (checkForCA skips the leaf), and signer.ts checks only the key type. So any
 * certificate the trusted CA issued for another purpose counts as a provider signature.
 */
describe('signer certificate purpose (keyUsage / extendedKeyUsage)', () => {
  let ca: TestCa;
  let anchors: TrustAnchors;
  beforeAll(() => {
    ca = createTestCa();
    anchors = loadTrustAnchors([ca.certificate]);
  });

  it('a TLS server certificate (extendedKeyUsage serverAuth only) is not a valid S/MIME signer', async () => {
    // The same CA that issues provider certificates also issues TLS server certificates (the
    // testkit's issueServer; real CAs such as Actalis do both). RFC 5280 4.2.1.12: "If the
    // extension is present, then the certificate MUST only be used for one of the purposes
    // indicated"; RFC 8550 4.4.4: an S/MIME signature needs id-kp-emailProtection (or
    // anyExtendedKeyUsage) when the extension is present.
    const tls = ca.issueServer({ hosts: ['www.qualunque.test'] });
    const identity = {
      certificate: tls.certificate,
      privateKey: createPrivateKey(tls.privateKeyPem),
      chain: [],
    };
    const check = await verifyDetachedSignature(
      CONTENT,
      signDetached(CONTENT, identity, 'sha256', SIGNED_AT),
      anchors,
    );
    expect(check.status).not.toBe('valid');
  });

  describe('keyUsage without digitalSignature/nonRepudiation', () => {
    let root: Issued;
    let rootAnchors: TrustAnchors;
    beforeAll(() => {
      root = issueCertificate({ subject: 'Review Root CA', cA: true, keyUsage: KEY_USAGE.ca });
      rootAnchors = loadTrustAnchors([root.der]);
    });

    it('an end-entity certificate whose keyUsage is keyEncipherment only is not a valid signer', async () => {
      // RFC 5280 4.2.1.3 (digitalSignature is asserted when the key verifies signatures other than
      // on certificates and CRLs) and RFC 8550 4.4.2: with keyUsage present, a signature needs
      // digitalSignature and/or nonRepudiation.
      const encipherOnly = issueCertificate({
        subject: 'posta-certificata@pec.provider.test',
        issuer: root,
        cA: false,
        keyUsage: KEY_USAGE.encipherOnly,
        email: 'posta-certificata@pec.provider.test',
      });
      const check = await verifyDetachedSignature(
        CONTENT,
        signCustom(CONTENT, identityOf(encipherOnly)),
        rootAnchors,
      );
      expect(check.status).not.toBe('valid');
    });

    it('a CA certificate (keyUsage keyCertSign+cRLSign) signing mail directly is not a valid signer', async () => {
      // A CA key signs certificates and CRLs (RFC 5280 4.2.1.3 keyCertSign/cRLSign), not messages:
      // a receipt "signed by AgID CA1 itself" is not a provider receipt.
      const subCa = issueCertificate({
        subject: 'Review Sub CA',
        issuer: root,
        cA: true,
        keyUsage: KEY_USAGE.ca,
      });
      for (const signer of [subCa, root]) {
        const check = await verifyDetachedSignature(
          CONTENT,
          signCustom(CONTENT, identityOf(signer)),
          rootAnchors,
        );
        expect(check.status, `signed by ${check.signer?.subject}`).not.toBe('valid');
      }
    });
  });
});
