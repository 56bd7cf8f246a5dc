import { createHash, createPublicKey, verify, webcrypto, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';

type EngineCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];

const NODE_HASH: Record<string, string> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};
/** rsaEncryption and the sha*WithRSAEncryption OIDs: PKCS#1 v1.5, which every PEC provider uses. */
const RSA_PKCS1 = new Set([
  '1.2.840.113549.1.1.1',
  '1.2.840.113549.1.1.5',
  '1.2.840.113549.1.1.11',
  '1.2.840.113549.1.1.12',
  '1.2.840.113549.1.1.13',
]);

/**
 * PKI.js's engine on node:crypto, for the certificate chain check (the per-message SignerInfo check
 * does not use PKI.js: signer.ts). Digests and RSA PKCS#1 v1.5 verification run synchronously in
 * node:crypto with the key object kept per certificate: WebCrypto would hop to the thread pool and
 * import the same key again for every chain. Everything else (RSA-PSS, ECDSA) is PKI.js's
 * WebCrypto path.
 */
class NodeCryptoEngine extends pkijs.CryptoEngine {
  private readonly keys = new WeakMap<pkijs.PublicKeyInfo, KeyObject>();

  override async digest(...args: Parameters<pkijs.CryptoEngine['digest']>): Promise<ArrayBuffer> {
    const [algorithm, data] = args;
    const name =
      NODE_HASH[(typeof algorithm === 'string' ? algorithm : algorithm.name).toUpperCase()];
    if (!name) return super.digest(...args);
    const bytes = ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    const digest = createHash(name).update(bytes).digest();
    return digest.buffer.slice(
      digest.byteOffset,
      digest.byteOffset + digest.byteLength,
    ) as ArrayBuffer;
  }

  override async verifyWithPublicKey(
    ...args: Parameters<pkijs.CryptoEngine['verifyWithPublicKey']>
  ): Promise<boolean> {
    const [data, signature, publicKeyInfo, signatureAlgorithm, shaAlgorithm] = args;
    const hash =
      NODE_HASH[(shaAlgorithm ?? this.getHashAlgorithm(signatureAlgorithm) ?? '').toUpperCase()];
    if (!hash || !RSA_PKCS1.has(signatureAlgorithm.algorithmId))
      return super.verifyWithPublicKey(...args);
    const bytes = ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    return verify(hash, bytes, this.keyOf(publicKeyInfo), signature.valueBlock.valueHexView);
  }

  private keyOf(publicKeyInfo: pkijs.PublicKeyInfo): KeyObject {
    let key = this.keys.get(publicKeyInfo);
    if (!key) {
      key = createPublicKey({
        key: Buffer.from(publicKeyInfo.toSchema().toBER()),
        format: 'der',
        type: 'spki',
      });
      this.keys.set(publicKeyInfo, key);
    }
    return key;
  }
}

const engine = new NodeCryptoEngine({
  name: 'nodejs',
  crypto: webcrypto as unknown as EngineCrypto,
});
pkijs.setEngine('nodejs', engine);

export { pkijs };
