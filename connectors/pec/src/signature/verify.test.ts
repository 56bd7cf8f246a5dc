import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, signDetached, type SigningIdentity } from '../testkit/index.js';
import { loadTrustAnchors, type TrustAnchors } from './anchors.js';
import { pkijs } from './engine.js';
import { verifyDetachedSignature } from './verify.js';

const CONTENT = Buffer.from('Content-Type: text/plain\r\n\r\ndelibera n. 12/2026\r\n', 'latin1');
const SIGNED_AT = new Date(Date.UTC(2026, 10, 2, 9, 30));

let provider: SigningIdentity;
let anchors: TrustAnchors;
beforeAll(() => {
  const ca = createTestCa();
  provider = ca.issueProvider({ address: 'posta-certificata@pec.mittente.test' });
  anchors = loadTrustAnchors([ca.certificate]);
});

/** Re-encodes the signature after `change` edits its one SignerInfo; nothing is signed again. */
function editSignerInfo(p7s: Buffer, change: (signerInfo: pkijs.SignerInfo) => void): Buffer {
  const contentInfo = pkijs.ContentInfo.fromBER(p7s);
  const signedData = new pkijs.SignedData({ schema: contentInfo.content });
  change(signedData.signerInfos[0]!);
  contentInfo.content = signedData.toSchema(true);
  return Buffer.from(contentInfo.toSchema().toBER());
}

/** Moves the signed signingTime attribute, leaving the signature value as it was. */
function changeSigningTime(signer: pkijs.SignerInfo): void {
  const signingTime = signer.signedAttrs!.attributes.find(
    (attribute) => attribute.type === '1.2.840.113549.1.9.5',
  )!;
  signingTime.values = [new asn1js.UTCTime({ valueDate: new Date(Date.UTC(2026, 0, 1)) })];
  signer.signedAttrs!.encodedValue = new ArrayBuffer(0);
}

describe('detached signature check', () => {
  it('leaves the signature bytes as given, so the same signature checks the same twice', async () => {
    const p7s = signDetached(CONTENT, provider, 'sha256', SIGNED_AT);
    const copy = Buffer.from(p7s);
    expect((await verifyDetachedSignature(CONTENT, p7s, anchors)).status).toBe('valid');
    expect(p7s.equals(copy)).toBe(true);
    expect((await verifyDetachedSignature(CONTENT, p7s, anchors)).status).toBe('valid');
  });

  it('is invalid when a signed attribute changed while the messageDigest still matches, RSA or ECDSA', async () => {
    const ecdsa = createTestCa().issueProvider({ address: 'ecdsa@pec.test', keyType: 'ec' });
    for (const [identity, email] of [
      [provider, 'posta-certificata@pec.mittente.test'],
      [ecdsa, 'ecdsa@pec.test'],
    ] as const) {
      const p7s = editSignerInfo(
        signDetached(CONTENT, identity, 'sha256', SIGNED_AT),
        changeSigningTime,
      );
      expect(await verifyDetachedSignature(CONTENT, p7s, anchors)).toMatchObject({
        status: 'invalid',
        reason: 'signature does not verify',
        signer: { email },
      });
    }
  });

  it('finds a signer named by subjectKeyIdentifier', async () => {
    const certificate = pkijs.Certificate.fromBER(provider.certificate);
    const keyIdentifier = createHash('sha1')
      .update(certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView)
      .digest();
    const p7s = editSignerInfo(signDetached(CONTENT, provider, 'sha1', SIGNED_AT), (signer) => {
      signer.version = 3;
      signer.sid = new asn1js.Primitive({
        idBlock: { tagClass: 3, tagNumber: 0 },
        valueHex: keyIdentifier,
      });
    });
    expect(await verifyDetachedSignature(CONTENT, p7s, anchors)).toMatchObject({
      status: 'valid',
      algorithm: 'sha1',
    });
  });

  it('matches an issuer encoded differently from the certificate by RFC 5280 name comparison', async () => {
    const p7s = editSignerInfo(signDetached(CONTENT, provider, 'sha256', SIGNED_AT), (signer) => {
      const sid = signer.sid as pkijs.IssuerAndSerialNumber;
      sid.issuer = new pkijs.RelativeDistinguishedNames({
        typesAndValues: [
          new pkijs.AttributeTypeAndValue({
            type: '2.5.4.3',
            value: new asn1js.PrintableString({ value: 'PECTRACK  TEST CA' }),
          }),
        ],
      });
    });
    expect(await verifyDetachedSignature(CONTENT, p7s, anchors)).toMatchObject({
      status: 'valid',
      signer: { issuer: 'CN=PECtrack Test CA' },
    });
  });

  it('is invalid when no carried certificate matches the signer', async () => {
    const p7s = editSignerInfo(signDetached(CONTENT, provider, 'sha256', SIGNED_AT), (signer) => {
      signer.sid = new asn1js.Primitive({
        idBlock: { tagClass: 3, tagNumber: 0 },
        valueHex: new Uint8Array(20),
      });
    });
    expect(await verifyDetachedSignature(CONTENT, p7s, anchors)).toEqual({
      status: 'invalid',
      algorithm: 'sha256',
      reason: 'Unable to find signer certificate',
    });
  });

  describe('signatures other than RSA PKCS#1 v1.5', () => {
    let ecProvider: SigningIdentity;
    beforeAll(() => {
      ecProvider = createTestCa().issueProvider({
        address: 'posta-certificata@ec.pec.test',
        keyType: 'ec',
      });
    });
    it('checks ECDSA over the signed attributes, sha256 and sha1, and refuses a changed content', async () => {
      const ca = createTestCa();
      const ec = ca.issueProvider({ address: 'posta-certificata@ec.pec.test', keyType: 'ec' });
      const trusted = loadTrustAnchors([ca.certificate]);
      for (const hash of ['sha256', 'sha1'] as const) {
        const p7s = signDetached(CONTENT, ec, hash, SIGNED_AT);
        expect(await verifyDetachedSignature(CONTENT, p7s, trusted)).toMatchObject({
          status: 'valid',
          algorithm: hash,
          signer: { email: 'posta-certificata@ec.pec.test' },
        });
        const changed = Buffer.from(CONTENT.toString('latin1').replace('12', '13'), 'latin1');
        expect(await verifyDetachedSignature(changed, p7s, trusted)).toMatchObject({
          status: 'invalid',
          reason: 'signed content was modified: digest does not match',
        });
      }
      // Trusted by its own CA only.
      const p7s = signDetached(CONTENT, ecProvider, 'sha256', SIGNED_AT);
      expect((await verifyDetachedSignature(CONTENT, p7s, anchors)).status).toBe(
        'intact-untrusted',
      );
    });

    it('trusts a chain whose CA signs with ECDSA, and not one whose certificate was altered', async () => {
      const ecCa = createTestCa({ keyType: 'ec' });
      const trusted = loadTrustAnchors([ecCa.certificate]);
      for (const keyType of ['ec', 'rsa'] as const) {
        const signer = ecCa.issueProvider({ address: `${keyType}@ec-ca.pec.test`, keyType });
        const p7s = signDetached(CONTENT, signer, 'sha256', SIGNED_AT);
        expect(await verifyDetachedSignature(CONTENT, p7s, trusted)).toMatchObject({
          status: 'valid',
          signer: { email: `${keyType}@ec-ca.pec.test` },
        });
        expect((await verifyDetachedSignature(CONTENT, p7s, anchors)).status).toBe(
          'intact-untrusted',
        );
      }
      // The same subject and key under a certificate the CA did not sign: chain refused.
      const forged = ecCa.issueProvider({ address: 'forged@ec-ca.pec.test', keyType: 'ec' });
      const certificate = Buffer.from(forged.certificate);
      certificate[certificate.length - 10]! ^= 0x01;
      const check = await verifyDetachedSignature(
        CONTENT,
        signDetached(CONTENT, { ...forged, certificate }, 'sha256', SIGNED_AT),
        trusted,
      );
      expect(check.status).toBe('intact-untrusted');
      expect(check.reason).toMatch(/^certificate chain: /);
    });

    it('checks RSASSA-PSS with its parameters', async () => {
      for (const hash of ['sha256', 'sha1'] as const) {
        const p7s = signDetached(CONTENT, provider, hash, SIGNED_AT, { pss: true });
        expect(await verifyDetachedSignature(CONTENT, p7s, anchors)).toMatchObject({
          status: 'valid',
          algorithm: hash,
        });
      }
      // The same signature value read as PKCS#1 v1.5 does not verify: the scheme is honoured.
      const asPkcs1 = editSignerInfo(
        signDetached(CONTENT, provider, 'sha256', SIGNED_AT, { pss: true }),
        (signer) => {
          signer.signatureAlgorithm = new pkijs.AlgorithmIdentifier({
            algorithmId: '1.2.840.113549.1.1.1',
            algorithmParams: new asn1js.Null(),
          });
        },
      );
      expect(await verifyDetachedSignature(CONTENT, asPkcs1, anchors)).toMatchObject({
        status: 'invalid',
        reason: 'signature does not verify',
      });
    });

    it('names what it cannot check: a mask generation over another hash, a key of the wrong kind', async () => {
      const otherMgf = editSignerInfo(
        signDetached(CONTENT, provider, 'sha256', SIGNED_AT, { pss: true }),
        (signer) => {
          const params = new pkijs.RSASSAPSSParams({
            schema: signer.signatureAlgorithm.algorithmParams,
          });
          params.maskGenAlgorithm = new pkijs.AlgorithmIdentifier({
            algorithmId: '1.2.840.113549.1.1.8',
            algorithmParams: new pkijs.AlgorithmIdentifier({
              algorithmId: '1.3.14.3.2.26',
              algorithmParams: new asn1js.Null(),
            }).toSchema(),
          });
          signer.signatureAlgorithm.algorithmParams = params.toSchema();
        },
      );
      expect(await verifyDetachedSignature(CONTENT, otherMgf, anchors)).toMatchObject({
        status: 'invalid',
        reason:
          'RSASSA-PSS with a mask generation other than MGF1 over its own hash is not supported',
      });
      const ecdsaOnRsa = editSignerInfo(
        signDetached(CONTENT, provider, 'sha256', SIGNED_AT),
        (signer) => {
          signer.signatureAlgorithm = new pkijs.AlgorithmIdentifier({
            algorithmId: '1.2.840.10045.4.3.2',
          });
        },
      );
      expect(await verifyDetachedSignature(CONTENT, ecdsaOnRsa, anchors)).toMatchObject({
        status: 'invalid',
        reason: 'signer certificate key is rsa, the signature is ec',
      });
    });
  });
});
