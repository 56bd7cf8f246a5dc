import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadTrustAnchors } from '../anchors.js';
import { verifyDetachedSignature } from '../verify.js';
import { createTestCa, type SigningIdentity, type TestCa } from '../../testkit/index.js';
import { signCustom } from './builders.test-support.js';

const CONTENT = Buffer.from('Content-Type: text/plain\r\n\r\nricevuta\r\n', 'latin1');
/** The provider certificate stops being valid at noon UTC. */
const NOT_AFTER = new Date(Date.UTC(2026, 10, 28, 12, 0, 0));

/**
 * verify.ts checkChain caches the chain result under `fingerprints@YYYY-MM-DD`, but certificate
 * validity is to the second (RFC 5280 4.1.2.5: notBefore/notAfter are instants, and 6.1.3 (a)(2)
 * checks the certificate is valid *at* the validation time). A `trusted` result computed in the
 * morning is then returned for the rest of the day, after the certificate expired.
 * No signingTime here, so the check date is the clock (the path intake takes for messages that
 * carry none, and the one a fix for signing-time-as-check-date.test.ts would take for all).
 */
describe('chain cache keyed by day', () => {
  let ca: TestCa;
  let provider: SigningIdentity;
  beforeAll(() => {
    ca = createTestCa();
    provider = ca.issueProvider({
      address: 'posta-certificata@pec.provider.test',
      validTo: NOT_AFTER,
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not return a cached "trusted" for a check time after the certificate expired the same day', async () => {
    const anchors = loadTrustAnchors([ca.certificate]);
    const p7s = signCustom(CONTENT, provider, { signingTime: null });
    vi.useFakeTimers({ toFake: ['Date'] });

    vi.setSystemTime(new Date(Date.UTC(2026, 10, 28, 11, 0, 0)));
    expect((await verifyDetachedSignature(CONTENT, p7s, anchors)).status).toBe('valid');

    // One hour after notAfter: the same anchors, with no cache, say so...
    vi.setSystemTime(new Date(Date.UTC(2026, 10, 28, 13, 0, 0)));
    const fresh = await verifyDetachedSignature(CONTENT, p7s, loadTrustAnchors([ca.certificate]));
    expect(fresh.status).toBe('intact-untrusted');
    // ...and the anchors that cached the morning's result must say the same.
    const cached = await verifyDetachedSignature(CONTENT, p7s, anchors);
    expect(cached.status).toBe('intact-untrusted');
  });
});
