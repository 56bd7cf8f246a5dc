/**
 * Review helpers: certificates with chosen extensions and CMS signatures with chosen signed
 * attributes, built with PKI.js and node:crypto the way testkit/ca.ts and testkit/smime.ts do,
 * but letting a test vary what the testkit fixes.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs } from '../engine.js';
import type { SigningIdentity } from '../../testkit/index.js';

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
export const ID_DATA = '1.2.840.113549.1.7.1';
export const ID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const HASH_OID = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' } as const;

export interface Issued {
  der: Buffer;
  certificate: pkijs.Certificate;
  privateKey: KeyObject;
}

export interface CertificateOptions {
  subject: string;
  /** The issuer; omitted: self-signed. */
  issuer?: Issued;
  cA: boolean;
  pathLenConstraint?: number;
  /** keyUsage first byte and its unused bits; omitted: no keyUsage extension. */
  keyUsage?: { byte: number; unusedBits: number };
  extendedKeyUsage?: string[];
  email?: string;
  validFrom?: Date;
  validTo?: Date;
}

export const KEY_USAGE = {
  /** digitalSignature + nonRepudiation: what a PEC provider certificate carries. */
  signing: { byte: 0xc0, unusedBits: 1 },
  /** keyEncipherment only: a key that must not verify signatures. */
  encipherOnly: { byte: 0x20, unusedBits: 5 },
  /** keyCertSign + cRLSign. */
  ca: { byte: 0x06, unusedBits: 1 },
} as const;

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  emailProtection: '1.3.6.1.5.5.7.3.4',
} as const;

export function issueCertificate(options: CertificateOptions): Issued {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  const serial = randomBytes(12);
  serial[0] = serial[0]! & 0x7f || 0x01;
  certificate.serialNumber = new asn1js.Integer({ valueHex: serial });
  certificate.subject.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({
      type: '2.5.4.3',
      value: new asn1js.Utf8String({ value: options.subject }),
    }),
  );
  if (options.issuer) certificate.issuer = options.issuer.certificate.subject;
  else
    certificate.issuer.typesAndValues.push(
      new pkijs.AttributeTypeAndValue({
        type: '2.5.4.3',
        value: new asn1js.Utf8String({ value: options.subject }),
      }),
    );
  certificate.notBefore.value = options.validFrom ?? new Date(Date.UTC(2020, 0, 1));
  certificate.notAfter.value = options.validTo ?? new Date(Date.UTC(2045, 0, 1));
  const spki = keys.publicKey.export({ type: 'spki', format: 'der' });
  certificate.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(spki);
  const extensions: pkijs.Extension[] = [
    extension(
      '2.5.29.19',
      true,
      new pkijs.BasicConstraints({
        cA: options.cA,
        ...(options.pathLenConstraint !== undefined && {
          pathLenConstraint: options.pathLenConstraint,
        }),
      }).toSchema(),
    ),
    extension(
      '2.5.29.14',
      false,
      new asn1js.OctetString({ valueHex: createHash('sha1').update(spki).digest() }),
    ),
  ];
  if (options.keyUsage)
    extensions.push(
      extension(
        '2.5.29.15',
        true,
        new asn1js.BitString({
          valueHex: new Uint8Array([options.keyUsage.byte]),
          unusedBits: options.keyUsage.unusedBits,
        }),
      ),
    );
  if (options.extendedKeyUsage)
    extensions.push(
      extension(
        '2.5.29.37',
        false,
        new pkijs.ExtKeyUsage({ keyPurposes: options.extendedKeyUsage }).toSchema(),
      ),
    );
  if (options.email)
    extensions.push(
      extension(
        '2.5.29.17',
        false,
        new pkijs.AltName({
          altNames: [new pkijs.GeneralName({ type: 1, value: options.email })],
        }).toSchema(),
      ),
    );
  certificate.extensions = extensions;
  const algorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: SHA256_WITH_RSA,
    algorithmParams: new asn1js.Null(),
  });
  certificate.signature = algorithm;
  certificate.signatureAlgorithm = algorithm;
  certificate.tbsView = new Uint8Array(certificate.encodeTBS().toBER());
  const signingKey = options.issuer?.privateKey ?? keys.privateKey;
  certificate.signatureValue = new asn1js.BitString({
    valueHex: sign('sha256', certificate.tbsView, signingKey),
  });
  const der = Buffer.from(certificate.toSchema().toBER());
  return { der, certificate: pkijs.Certificate.fromBER(der), privateKey: keys.privateKey };
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

export function identityOf(issued: Issued, chain: Issued[] = []): SigningIdentity {
  return { certificate: issued.der, privateKey: issued.privateKey, chain: chain.map((c) => c.der) };
}

export interface CustomSignOptions {
  hash?: 'sha1' | 'sha256';
  /** The content-type signed attribute's value (RFC 5652 11.1); default id-data. */
  contentTypeAttribute?: string;
  /** null: no signingTime attribute at all. */
  signingTime?: Date | null;
  /** How the SignerInfo names its certificate: issuerAndSerialNumber or a subjectKeyIdentifier. */
  sid?: { keyIdentifier: Uint8Array } | 'issuer-and-serial';
}

/** A detached CMS SignedData over `content`, RSA PKCS#1 v1.5 over signed attributes. */
export function signCustom(
  content: Buffer,
  identity: SigningIdentity,
  options: CustomSignOptions = {},
): Buffer {
  const hash = options.hash ?? 'sha256';
  const certificate = pkijs.Certificate.fromBER(identity.certificate);
  const digestAlgorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: HASH_OID[hash],
    algorithmParams: new asn1js.Null(),
  });
  const attributes = [
    new pkijs.Attribute({
      type: '1.2.840.113549.1.9.3',
      values: [new asn1js.ObjectIdentifier({ value: options.contentTypeAttribute ?? ID_DATA })],
    }),
  ];
  const signingTime =
    options.signingTime === undefined
      ? new Date(Date.UTC(2026, 10, 2, 9, 30))
      : options.signingTime;
  if (signingTime)
    attributes.push(
      new pkijs.Attribute({
        type: '1.2.840.113549.1.9.5',
        values: [new asn1js.UTCTime({ valueDate: signingTime })],
      }),
    );
  attributes.push(
    new pkijs.Attribute({
      type: '1.2.840.113549.1.9.4',
      values: [new asn1js.OctetString({ valueHex: createHash(hash).update(content).digest() })],
    }),
  );
  const keyIdentifier =
    options.sid && options.sid !== 'issuer-and-serial' ? options.sid.keyIdentifier : null;
  const signerInfo = new pkijs.SignerInfo({
    version: keyIdentifier ? 3 : 1,
    sid: keyIdentifier
      ? new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: keyIdentifier })
      : new pkijs.IssuerAndSerialNumber({
          issuer: certificate.issuer,
          serialNumber: certificate.serialNumber,
        }),
    digestAlgorithm,
    signatureAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: '1.2.840.113549.1.1.1',
      algorithmParams: new asn1js.Null(),
    }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes }),
  });
  const signed = new Uint8Array(signerInfo.signedAttrs!.toSchema().toBER());
  signed[0] = 0x31;
  signerInfo.signature = new asn1js.OctetString({
    valueHex: sign(hash, signed, identity.privateKey),
  });
  const signedData = new pkijs.SignedData({
    version: keyIdentifier ? 3 : 1,
    digestAlgorithms: [digestAlgorithm],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: ID_DATA }),
    certificates: [certificate, ...identity.chain.map((der) => pkijs.Certificate.fromBER(der))],
    signerInfos: [signerInfo],
  });
  const contentInfo = new pkijs.ContentInfo({
    contentType: ID_SIGNED_DATA,
    content: signedData.toSchema(true),
  });
  return Buffer.from(contentInfo.toSchema().toBER());
}

/** The subjectKeyIdentifier extension value of a DER certificate. */
export function subjectKeyIdentifierOf(der: Buffer): Uint8Array {
  const certificate = pkijs.Certificate.fromBER(der);
  const extension = certificate.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (!extension) throw new Error('certificate has no subjectKeyIdentifier');
  return (extension.parsedValue as asn1js.OctetString).valueBlock.valueHexView;
}
