import { createHash, sign } from 'node:crypto';
import * as asn1js from 'asn1js';
import { pkijs } from '../signature/engine.js';
import type { SigningIdentity } from './ca.js';
import {
  base64Lines,
  boundaryFor,
  CRLF,
  writeMultipartBody,
  writePart,
  type HeaderLines,
} from './mime.js';

export type SignatureHash = 'sha1' | 'sha256';

const HASH_OID: Record<SignatureHash, string> = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
};
/** Real providers: sha1 with the legacy x-pkcs7 type, sha-256 with the RFC 5751 one (docs/pec.md). */
const PROTOCOL: Record<SignatureHash, { protocol: string; micalg: string }> = {
  sha1: { protocol: 'application/x-pkcs7-signature', micalg: 'sha1' },
  sha256: { protocol: 'application/pkcs7-signature', micalg: 'sha-256' },
};

/** A detached CMS SignedData (DER) over `content`, signed synchronously. */
export function signDetached(
  content: Buffer,
  identity: SigningIdentity,
  hash: SignatureHash,
  signingTime: Date,
): Buffer {
  const certificate = pkijs.Certificate.fromBER(identity.certificate);
  const digestAlgorithm = new pkijs.AlgorithmIdentifier({
    algorithmId: HASH_OID[hash],
    algorithmParams: new asn1js.Null(),
  });
  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({
      issuer: certificate.issuer,
      serialNumber: certificate.serialNumber,
    }),
    digestAlgorithm,
    signatureAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: '1.2.840.113549.1.1.1',
      algorithmParams: new asn1js.Null(),
    }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({
      type: 0,
      attributes: [
        new pkijs.Attribute({
          type: '1.2.840.113549.1.9.3',
          values: [new asn1js.ObjectIdentifier({ value: '1.2.840.113549.1.7.1' })],
        }),
        new pkijs.Attribute({
          type: '1.2.840.113549.1.9.5',
          values: [new asn1js.UTCTime({ valueDate: signingTime })],
        }),
        new pkijs.Attribute({
          type: '1.2.840.113549.1.9.4',
          values: [new asn1js.OctetString({ valueHex: createHash(hash).update(content).digest() })],
        }),
      ],
    }),
  });
  const signedAttributes = new Uint8Array(signerInfo.signedAttrs!.toSchema().toBER());
  signedAttributes[0] = 0x31; // signed as an explicit SET OF (RFC 5652 5.4), not the [0] IMPLICIT tag it travels with
  signerInfo.signature = new asn1js.OctetString({
    valueHex: sign(hash, signedAttributes, identity.privateKey),
  });
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [digestAlgorithm],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: '1.2.840.113549.1.7.1' }),
    certificates: [certificate, ...identity.chain.map((der) => pkijs.Certificate.fromBER(der))],
    signerInfos: [signerInfo],
  });
  const contentInfo = new pkijs.ContentInfo({
    contentType: '1.2.840.113549.1.7.2',
    content: signedData.toSchema(true),
  });
  return Buffer.from(contentInfo.toSchema().toBER());
}

export interface SignedEntity {
  /** The Content-Type header value of the multipart/signed entity. */
  contentType: string;
  body: Buffer;
}

/** Wraps an entity (its headers and body, already CRLF) as multipart/signed, S/MIME style. */
export function signEntity(
  entity: Buffer,
  identity: SigningIdentity,
  hash: SignatureHash,
  signingTime: Date,
): SignedEntity {
  const { protocol, micalg } = PROTOCOL[hash];
  const boundary = boundaryFor('signed', entity);
  const p7s = signDetached(entity, identity, hash, signingTime);
  const signaturePart: HeaderLines = [
    ['Content-Type', `${protocol}; name="smime.p7s"`],
    ['Content-Transfer-Encoding', 'base64'],
    ['Content-Disposition', 'attachment; filename="smime.p7s"'],
    ['Content-Description', 'S/MIME Cryptographic Signature'],
  ];
  return {
    contentType: `multipart/signed; protocol="${protocol}"; micalg=${micalg}; boundary="${boundary}"`,
    body: writeMultipartBody(
      boundary,
      [entity, writePart({ headers: signaturePart, body: base64Lines(p7s) + CRLF })],
      'This is an S/MIME signed message',
    ),
  };
}
