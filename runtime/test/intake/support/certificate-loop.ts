/**
 * A PEC provider identity whose signature ships two CA certificates that issue each other
 * ("Loop A" signed by the key of "Loop B", "Loop B" signed by the key of "Loop A"), the signer
 * issued by "Loop A". Anyone can mint these (their own keys); none of them chains to a trust
 * anchor. PKI.js 4's CertificateChainValidationEngine builds paths recursively with no visited
 * set, so the chain check of such a signature never ends.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { TestProvider } from '@pectrack/connector-pec/testkit';

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

function cn(value: string): pkijs.AttributeTypeAndValue {
  return new pkijs.AttributeTypeAndValue({
    type: '2.5.4.3',
    value: new asn1js.Utf8String({ value }),
  });
}

function ext(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

function certificate(spec: {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  ca: boolean;
  email?: string;
}): Buffer {
  const c = new pkijs.Certificate();
  c.version = 2;
  const serial = randomBytes(12);
  serial[0] = serial[0]! & 0x7f || 1;
  c.serialNumber = new asn1js.Integer({ valueHex: serial });
  c.issuer.typesAndValues.push(cn(spec.issuer));
  c.subject.typesAndValues.push(cn(spec.subject));
  c.notBefore.value = new Date(Date.UTC(2020, 0, 1));
  c.notAfter.value = new Date(Date.UTC(2045, 0, 1));
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  c.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(spki);
  c.extensions = [
    ext('2.5.29.19', true, new pkijs.BasicConstraints({ cA: spec.ca }).toSchema()),
    ext(
      '2.5.29.15',
      true,
      new asn1js.BitString({ valueHex: new Uint8Array([spec.ca ? 0x06 : 0xc0]), unusedBits: 1 }),
    ),
    ext(
      '2.5.29.14',
      false,
      new asn1js.OctetString({ valueHex: createHash('sha1').update(spki).digest() }),
    ),
    ...(spec.email
      ? [
          ext(
            '2.5.29.17',
            false,
            new pkijs.AltName({
              altNames: [new pkijs.GeneralName({ type: 1, value: spec.email })],
            }).toSchema(),
          ),
        ]
      : []),
  ];
  const algorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: SHA256_WITH_RSA,
    algorithmParams: new asn1js.Null(),
  });
  c.signature = algorithm;
  c.signatureAlgorithm = algorithm;
  c.tbsView = new Uint8Array(c.encodeTBS().toBER());
  c.signatureValue = new asn1js.BitString({ valueHex: sign('sha256', c.tbsView, spec.signingKey) });
  return Buffer.from(c.toSchema().toBER());
}

/** A provider on `domain` signing with a certificate below a two-certificate issuer loop. */
export function loopProvider(domain = 'pec.test'): TestProvider {
  const keys = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  const a = keys();
  const b = keys();
  const s = keys();
  const loopA = certificate({
    subject: 'Loop A',
    issuer: 'Loop B',
    publicKey: a.publicKey,
    signingKey: b.privateKey,
    ca: true,
  });
  const loopB = certificate({
    subject: 'Loop B',
    issuer: 'Loop A',
    publicKey: b.publicKey,
    signingKey: a.privateKey,
    ca: true,
  });
  const address = `posta-certificata@${domain}`;
  const signer = certificate({
    subject: `Gestore di test ${domain}`,
    issuer: 'Loop A',
    publicKey: s.publicKey,
    signingKey: a.privateKey,
    ca: false,
    email: address,
  });
  return {
    name: `Gestore di test ${domain}`,
    domain,
    identity: { certificate: signer, privateKey: s.privateKey, chain: [loopA, loopB] },
  };
}
