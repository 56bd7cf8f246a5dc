import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as asn1js from 'asn1js';
import { pkijs } from '../signature/engine.js';

/** A certificate with its key: what signs envelopes and receipts. */
export interface SigningIdentity {
  certificate: Buffer;
  privateKey: KeyObject;
  /** Intermediate certificates to ship in the signature (none for the test CA). */
  chain: Buffer[];
}

/** A TLS server's certificate and key, PEM as node:tls, smtp-server and Dovecot take them. */
export interface TlsServerIdentity {
  certificatePem: string;
  privateKeyPem: string;
  /** The certificate, DER. */
  certificate: Buffer;
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
  /**
   * Issues a TLS server certificate for `hosts` (IP literals and DNS names, all in
   * subjectAltName; the first is also the CN). Its key is of the CA's type and size.
   */
  issueServer(options: { hosts: string[]; validFrom?: Date; validTo?: Date }): TlsServerIdentity;
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
  const newKeys = (keyType?: 'rsa' | 'ec') =>
    keyType === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: keyBits });
  const keys = newKeys(options.keyType);
  const subject = options.commonName ?? 'PECtrack Test CA';
  const root = buildCertificate({
    subject,
    issuer: subject,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    validFrom: options.validFrom ?? DEFAULT_FROM,
    validTo: options.validTo ?? DEFAULT_TO,
    role: 'ca',
  });
  const certificate = Buffer.from(root.toSchema().toBER());
  // What every certificate this CA issues shares: its name, its signature, its default validity.
  const issue = (spec: IssuedSpec): Buffer =>
    Buffer.from(
      buildCertificate({
        ...spec,
        issuer: subject,
        signingKey: keys.privateKey,
        validFrom: spec.validFrom ?? options.validFrom ?? DEFAULT_FROM,
        validTo: spec.validTo ?? options.validTo ?? DEFAULT_TO,
      })
        .toSchema()
        .toBER(),
    );
  return {
    certificate,
    certificatePem: toPem(certificate),
    privateKey: keys.privateKey,
    issueProvider(provider) {
      const providerKeys = newKeys(provider.keyType);
      return {
        certificate: issue({
          subject: provider.commonName ?? provider.address,
          publicKey: providerKeys.publicKey,
          validFrom: provider.validFrom,
          validTo: provider.validTo,
          role: 'signer',
          altNames: [new pkijs.GeneralName({ type: 1, value: provider.address })],
        }),
        privateKey: providerKeys.privateKey,
        chain: [],
      };
    },
    issueServer(server) {
      const [first] = server.hosts;
      if (first === undefined) throw new Error('issueServer needs at least one host');
      const serverKeys = newKeys(options.keyType);
      const der = issue({
        subject: first,
        publicKey: serverKeys.publicKey,
        validFrom: server.validFrom,
        validTo: server.validTo,
        role: 'tls-server',
        altNames: server.hosts.map(hostName),
      });
      return {
        certificate: der,
        certificatePem: toPem(der),
        privateKeyPem: serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
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
  role: 'ca' | 'signer' | 'tls-server';
  altNames?: pkijs.GeneralName[];
}

type IssuedSpec = Pick<CertificateSpec, 'subject' | 'publicKey' | 'role' | 'altNames'> & {
  validFrom?: Date;
  validTo?: Date;
};

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

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
    extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: spec.role === 'ca' }).toSchema()),
    extension('2.5.29.15', true, keyUsage(spec)),
    extension('2.5.29.14', false, new asn1js.OctetString({ valueHex: keyId })),
  ];
  if (spec.altNames) {
    const altName = new pkijs.AltName({ altNames: spec.altNames });
    extensions.push(extension('2.5.29.17', false, altName.toSchema()));
  }
  if (spec.role === 'tls-server') {
    const usage = new pkijs.ExtKeyUsage({ keyPurposes: [SERVER_AUTH] });
    extensions.push(extension('2.5.29.37', false, usage.toSchema()));
  }
  return extensions;
}

/** The keyUsage bits, first byte first (bit 0 = 0x80 = digitalSignature). */
function keyUsage(spec: CertificateSpec): asn1js.BitString {
  const bits = (valueHex: number, unusedBits: number) =>
    new asn1js.BitString({ valueHex: new Uint8Array([valueHex]), unusedBits });
  // keyCertSign+cRLSign for the CA; digitalSignature+nonRepudiation for a provider (encoded so
  // since the first provider certificates: readers take the named bits alike).
  if (spec.role === 'ca') return bits(0x06, 1);
  if (spec.role === 'signer') return bits(0xc0, 1);
  // An RSA server may be sent a key encrypted to it; an EC one only signs its ECDHE share.
  return spec.publicKey.asymmetricKeyType === 'ec' ? bits(0x80, 7) : bits(0xa0, 5);
}

/** An IP literal as iPAddress (4 or 16 raw bytes), anything else as dNSName. */
function hostName(host: string): pkijs.GeneralName {
  const version = isIP(host);
  if (version === 0) return new pkijs.GeneralName({ type: 2, value: host });
  const valueHex = version === 4 ? Uint8Array.from(host.split('.').map(Number)) : ipv6Bytes(host);
  return new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex }) });
}

function ipv6Bytes(address: string): Uint8Array {
  // A dotted IPv4 tail (::ffff:192.0.2.1) is the last two 16-bit groups.
  const text = address.replace(/\d+\.\d+\.\d+\.\d+$/, (dotted) => {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
    return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  });
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const zeros = tail === undefined ? 0 : 8 - groups(head).length - groups(tail).length;
  const all = [...groups(head), ...Array<string>(zeros).fill('0'), ...groups(tail ?? '')];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}
