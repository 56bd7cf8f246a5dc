import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs } from '../signature/engine.js';

/** A certificate with its key: what signs envelopes and receipts. */
export interface SigningIdentity {
  certificate: Buffer;
  privateKey: KeyObject;
  /** Intermediate certificates to ship in the signature (none for the test CA). */
  chain: Buffer[];
}

export interface TestCa {
  /** The root certificate, DER: the trust anchor tests configure. */
  certificate: Buffer;
  certificatePem: string;
  privateKey: KeyObject;
  /** Issues a provider certificate with `address` as SAN rfc822Name, as AgID CA1 does. */
  issueProvider(options: {
    address: string;
    commonName?: string;
    validFrom?: Date;
    validTo?: Date;
    /** The provider's key: RSA of the CA's RSA size (as PEC providers), or ECDSA P-256. */
    keyType?: 'rsa' | 'ec';
  }): SigningIdentity;
}

export interface TestCaOptions {
  commonName?: string;
  validFrom?: Date;
  validTo?: Date;
  /** RSA key size, for the CA and the RSA providers it issues. */
  keyBits?: number;
  /** The CA's own key: RSA (default) or ECDSA P-256, certificates then signed ecdsa-with-SHA256. */
  keyType?: 'rsa' | 'ec';
}

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const DEFAULT_FROM = new Date(Date.UTC(2020, 0, 1));
const DEFAULT_TO = new Date(Date.UTC(2045, 0, 1));

/**
 * A throw-away certification authority. Synchronous (node:crypto keys and signatures, PKI.js
 * structures) so that every builder using it stays a plain function returning bytes.
 */
export function createTestCa(options: TestCaOptions = {}): TestCa {
  const keyBits = options.keyBits ?? 2048;
  const keys =
    options.keyType === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: keyBits });
  const subject = options.commonName ?? 'PECtrack Test CA';
  const root = buildCertificate({
    subject,
    issuer: subject,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    validFrom: options.validFrom ?? DEFAULT_FROM,
    validTo: options.validTo ?? DEFAULT_TO,
    ca: true,
  });
  const certificate = Buffer.from(root.toSchema().toBER());
  return {
    certificate,
    certificatePem: toPem(certificate),
    privateKey: keys.privateKey,
    issueProvider(provider) {
      const providerKeys =
        provider.keyType === 'ec'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('rsa', { modulusLength: keyBits });
      const issued = buildCertificate({
        subject: provider.commonName ?? provider.address,
        issuer: subject,
        publicKey: providerKeys.publicKey,
        signingKey: keys.privateKey,
        validFrom: provider.validFrom ?? options.validFrom ?? DEFAULT_FROM,
        validTo: provider.validTo ?? options.validTo ?? DEFAULT_TO,
        ca: false,
        email: provider.address,
      });
      return {
        certificate: Buffer.from(issued.toSchema().toBER()),
        privateKey: providerKeys.privateKey,
        chain: [],
      };
    },
  };
}

export function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

interface CertificateSpec {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  validFrom: Date;
  validTo: Date;
  ca: boolean;
  email?: string;
}

function buildCertificate(spec: CertificateSpec): pkijs.Certificate {
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({ valueHex: serialNumber() });
  certificate.issuer.typesAndValues.push(commonName(spec.issuer));
  certificate.subject.typesAndValues.push(commonName(spec.subject));
  certificate.notBefore.value = spec.validFrom;
  certificate.notAfter.value = spec.validTo;
  const spki = spec.publicKey.export({ type: 'spki', format: 'der' });
  certificate.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(spki);
  certificate.extensions = extensionsFor(spec, spki);
  // RFC 5758: ECDSA identifiers carry no parameters; RSA ones a NULL.
  const algorithm =
    spec.signingKey.asymmetricKeyType === 'ec'
      ? new pkijs.AlgorithmIdentifier({ algorithmId: ECDSA_WITH_SHA256 })
      : new pkijs.AlgorithmIdentifier({
          algorithmId: SHA256_WITH_RSA,
          algorithmParams: new asn1js.Null(),
        });
  certificate.signature = algorithm;
  certificate.signatureAlgorithm = algorithm;
  certificate.tbsView = new Uint8Array(certificate.encodeTBS().toBER());
  certificate.signatureValue = new asn1js.BitString({
    // For ECDSA, node signs in the DER Ecdsa-Sig-Value form X.509 carries.
    valueHex: sign('sha256', certificate.tbsView, spec.signingKey),
  });
  return certificate;
}

function serialNumber(): Uint8Array {
  const bytes = randomBytes(12);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes;
}

function commonName(value: string): pkijs.AttributeTypeAndValue {
  return new pkijs.AttributeTypeAndValue({
    type: '2.5.4.3',
    value: new asn1js.Utf8String({ value }),
  });
}

function extensionsFor(spec: CertificateSpec, spki: Buffer): pkijs.Extension[] {
  const keyId = createHash('sha1').update(spki).digest();
  const extensions = [
    extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: spec.ca }).toSchema()),
    // keyCertSign+cRLSign for the CA; digitalSignature+nonRepudiation for a provider
    extension(
      '2.5.29.15',
      true,
      new asn1js.BitString({ valueHex: new Uint8Array([spec.ca ? 0x06 : 0xc0]), unusedBits: 1 }),
    ),
    extension('2.5.29.14', false, new asn1js.OctetString({ valueHex: keyId })),
  ];
  if (spec.email) {
    const altName = new pkijs.AltName({
      altNames: [new pkijs.GeneralName({ type: 1, value: spec.email })],
    });
    extensions.push(extension('2.5.29.17', false, altName.toSchema()));
  }
  return extensions;
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}
