/**
 * Mailbox passwords at rest: AES-256-GCM with the key from PECTRACK_SECRET_KEY. The stored
 * form `v1:<iv>:<tag>:<ciphertext>` (base64) names its scheme so the key can be rotated later.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export class SecretKeyError extends Error {
  readonly code = 'secret-key';
  constructor(reason: string) {
    super(`PECTRACK_SECRET_KEY ${reason}`);
    this.name = 'SecretKeyError';
  }
}

/** Accepts 32 bytes as 64 hex digits or as base64 (what `openssl rand -base64 32` prints). */
export function parseSecretKey(value: string | undefined): Buffer {
  if (!value)
    throw new SecretKeyError('is not set: it encrypts mailbox passwords (32 bytes, hex or base64)');
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, 'hex')
    : Buffer.from(value, 'base64');
  if (key.length !== 32)
    throw new SecretKeyError(`must be 32 bytes as hex or base64, got ${key.length} bytes`);
  return key;
}

export function encryptSecret(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    'v1',
    iv.toString('base64'),
    cipher.getAuthTag().toString('base64'),
    ciphertext.toString('base64'),
  ].join(':');
}

export function decryptSecret(key: Buffer, stored: string): string {
  const [version, iv, tag, ciphertext] = stored.split(':');
  if (version !== 'v1' || !iv || !tag || ciphertext === undefined) {
    throw new SecretKeyError('cannot decrypt a stored secret: unknown format');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  try {
    return Buffer.concat([
      decipher.update(Buffer.from(ciphertext, 'base64')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SecretKeyError(
      'does not decrypt a stored secret: it differs from the key used to store it',
    );
  }
}
