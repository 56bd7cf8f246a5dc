import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrustAnchors, type TrustAnchors } from '../anchors.js';
import { verifyDetachedSignature } from '../verify.js';
import { createTestCa, type TestCa } from '../../testkit/index.js';
import { signCustom } from './builders.test-support.js';

const CONTENT = Buffer.from(
  'Content-Type: application/xml; name="daticert.xml"\r\n\r\n<postacert tipo="avvenuta-consegna"/>\r\n',
  'latin1',
);

/**
 * verify.ts validated the chain at `signerInfo.signingTime ?? new Date()`. signingTime is a signed
 * attribute, i.e. chosen by whoever holds the signing key: RFC 8551 2.5.1 says it "is only as
 * trustworthy as the originator of the message", and RFC 5280 6.1.1 (b) validates a path at the
 * current time (or at a time vouched for by a trusted source, e.g. a time-stamp, which this is
 * not). With the signer's own claim as the clock, the key of an expired certificate (no CA keeps
 * revocation status for expired certificates, RFC 5280 3.3) signs "valid" receipts forever by
 * backdating, and a not-yet-valid certificate is usable today by post-dating.
 * The chain is now checked when the message was received (the IMAP INTERNALDATE), or now.
 */
describe('the chain is checked at the time the signer claims', () => {
  let ca: TestCa;
  let anchors: TrustAnchors;
  beforeAll(() => {
    ca = createTestCa();
    anchors = loadTrustAnchors([ca.certificate]);
  });

  it('a certificate that expired in 2024 does not give a valid signature by claiming a 2023 signingTime', async () => {
    const expired = ca.issueProvider({
      address: 'posta-certificata@pec.provider.test',
      validFrom: new Date(Date.UTC(2021, 0, 1)),
      validTo: new Date(Date.UTC(2024, 0, 1)),
    });
    const p7s = signCustom(CONTENT, expired, { signingTime: new Date(Date.UTC(2023, 5, 1)) });
    const check = await verifyDetachedSignature(CONTENT, p7s, anchors);
    expect(check.status).not.toBe('valid');
    // A backlog read today: received in 2023, when the certificate was valid, it is.
    const received = new Date(Date.UTC(2023, 5, 1, 0, 5));
    expect(await verifyDetachedSignature(CONTENT, p7s, anchors, received)).toMatchObject({
      status: 'valid',
    });
  });

  it('a certificate valid only from 2040 does not give a valid signature by claiming a 2041 signingTime', async () => {
    const notYetValid = ca.issueProvider({
      address: 'posta-certificata@pec.provider.test',
      validFrom: new Date(Date.UTC(2040, 0, 1)),
      validTo: new Date(Date.UTC(2044, 0, 1)),
    });
    const p7s = signCustom(CONTENT, notYetValid, {
      signingTime: new Date(Date.UTC(2041, 5, 1)),
    });
    const check = await verifyDetachedSignature(CONTENT, p7s, anchors);
    expect(check.status).not.toBe('valid');
  });
});
