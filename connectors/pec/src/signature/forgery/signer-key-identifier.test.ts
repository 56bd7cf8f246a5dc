import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrustAnchors, type TrustAnchors } from '../anchors.js';
import { verifyDetachedSignature } from '../verify.js';
import { createTestCa, type SigningIdentity } from '../../testkit/index.js';
import { signCustom, subjectKeyIdentifierOf } from './builders.test-support.js';

const CONTENT = Buffer.from('Content-Type: text/plain\r\n\r\nricevuta di consegna\r\n', 'latin1');

/**
 * RFC 5652 5.3: the subjectKeyIdentifier choice of SignerIdentifier "identifies the signer's
 * certificate by a key identifier"; for X.509 it matches the certificate's subjectKeyIdentifier
 * extension value (what OpenSSL `cms -sign -keyid` writes). RFC 5280 4.2.1.2 lets a CA derive
 * that value however it likes (SHA-1 of the subjectPublicKey bits is only one of the methods; the
 * testkit CA itself uses SHA-1 of the whole SubjectPublicKeyInfo). certificates.ts computes
 * `keyIdentifier` as SHA-1 of the subjectPublicKey bits and never reads the extension, so a
 * genuine provider signature naming its certificate by its real SKI is reported `invalid`
 * ("Unable to find signer certificate"): a genuine receipt recorded as a forgery.
 */
describe('signer named by subjectKeyIdentifier', () => {
  let provider: SigningIdentity;
  let anchors: TrustAnchors;
  beforeAll(() => {
    const ca = createTestCa();
    provider = ca.issueProvider({ address: 'posta-certificata@pec.provider.test' });
    anchors = loadTrustAnchors([ca.certificate]);
  });

  it('finds the certificate whose subjectKeyIdentifier extension is the sid', async () => {
    const keyIdentifier = subjectKeyIdentifierOf(provider.certificate);
    const p7s = signCustom(CONTENT, provider, { sid: { keyIdentifier } });
    expect(await verifyDetachedSignature(CONTENT, p7s, anchors)).toMatchObject({
      status: 'valid',
      signer: { email: 'posta-certificata@pec.provider.test' },
    });
  });
});
