import { constants, createHash, sign } from 'node:crypto';
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

const ECDSA_WITH: Record<SignatureHash, string> = {
  sha1: '1.2.840.10045.4.1',
  sha256: '1.2.840.10045.4.3.2',
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const MGF1 = '1.2.840.113549.1.1.8';

export interface SignOptions {
  /** RSA keys only: RSASSA-PSS (salt as long as the hash) instead of PKCS#1 v1.5. */
  pss?: boolean;
}

/**
 * The SignerInfo's signatureAlgorithm and the signing call for the identity's key: rsaEncryption
 * (PKCS#1 v1.5, as PEC providers sign), RSASSA-PSS on request, ecdsa-with-SHA* for an EC key.
 */
function signatureScheme(
  identity: SigningIdentity,
  hash: SignatureHash,
  options: SignOptions,
): { algorithm: pkijs.AlgorithmIdentifier; sign(data: Uint8Array): Buffer } {
  const key = identity.privateKey;
  if (key.asymmetricKeyType === 'ec')
    return {
      algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: ECDSA_WITH[hash] }),
      sign: (data) => sign(hash, data, key),
    };
  if (options.pss) {
    const hashAlgorithm = new pkijs.AlgorithmIdentifier({
      algorithmId: HASH_OID[hash],
      algorithmParams: new asn1js.Null(),
    });
    const saltLength = createHash(hash).digest().length;
    const params = new pkijs.RSASSAPSSParams({
      hashAlgorithm,
      maskGenAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: MGF1,
        algorithmParams: hashAlgorithm.toSchema(),
      }),
      saltLength,
    });
    return {
      algorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: RSASSA_PSS,
        algorithmParams: params.toSchema(),
      }),
      sign: (data) =>
        sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }),
    };
  }
  return {
    algorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: '1.2.840.113549.1.1.1',
      algorithmParams: new asn1js.Null(),
    }),
    sign: (data) => sign(hash, data, key),
  };
}

/** A detached CMS SignedData (DER) over `content`, signed synchronously. */
export function signDetached(
  content: Buffer,
  identity: SigningIdentity,
  hash: SignatureHash,
  signingTime: Date,
  options: SignOptions = {},
): Buffer {
  const scheme = signatureScheme(identity, hash, options);
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
    signatureAlgorithm: scheme.algorithm,
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
    valueHex: scheme.sign(signedAttributes),
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
