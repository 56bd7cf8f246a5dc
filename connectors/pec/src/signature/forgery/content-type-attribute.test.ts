import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrustAnchors, type TrustAnchors } from '../anchors.js';
import { verifyDetachedSignature } from '../verify.js';
import { createTestCa, type SigningIdentity } from '../../testkit/index.js';
import { ID_SIGNED_DATA, signCustom } from './builders.test-support.js';

const CONTENT = Buffer.from('Content-Type: text/plain\r\n\r\nricevuta\r\n', 'latin1');

/**
 * RFC 5652 11.1: the content-type signed attribute "MUST be present" and its value "MUST match
 * the SignedData encapContentInfo eContentType value" (5.6: the recipient checks it). signer.ts
 * only checks that the attribute is there. The attribute exists to bind the signature to the
 * kind of content signed, so that a signature over one content type is not accepted as one over
 * another (here: the signer said it signed a SignedData, the message presents it as id-data).
 */
describe('content-type signed attribute value', () => {
  let provider: SigningIdentity;
  let anchors: TrustAnchors;
  beforeAll(() => {
    const ca = createTestCa();
    provider = ca.issueProvider({ address: 'posta-certificata@pec.provider.test' });
    anchors = loadTrustAnchors([ca.certificate]);
  });

  it('is invalid when content-type is not the eContentType (id-data)', async () => {
    const p7s = signCustom(CONTENT, provider, { contentTypeAttribute: ID_SIGNED_DATA });
    expect((await verifyDetachedSignature(CONTENT, p7s, anchors)).status).toBe('invalid');
  });
});
