/**
 * Content-addressed blob store for raw messages and attachments (ARCHITECTURE §4): a blob's
 * name is the SHA-256 of its bytes, so storing the same message twice costs nothing and a
 * stored blob can be checked against its name. Writes stream through a temporary file and
 * are renamed into place only once complete, so a crash never leaves a truncated blob under
 * a valid name. The interface is what an S3-compatible store would implement too.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface StoredBlob {
  sha256: string;
  size: number;
}

export interface BlobStore {
  /** Stores bytes (a Buffer or a stream, never collected in memory) and returns their address. */
  put(content: Buffer | Readable): Promise<StoredBlob>;
  /** Streams a stored blob; fails with BlobNotFoundError when absent. */
  open(sha256: string): Promise<Readable>;
  size(sha256: string): Promise<number | null>;
}

export class BlobNotFoundError extends Error {
  readonly code = 'blob-not-found';
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is not in the store`);
    this.name = 'BlobNotFoundError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export class FileBlobStore implements BlobStore {
  private readonly tmpDir: string;

  constructor(private readonly root: string) {
    this.tmpDir = join(root, 'tmp');
  }

  /** Two levels of fan-out keep directories small with millions of blobs. */
  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256))
      throw new Error(`sha256 must be 64 lowercase hex digits, got "${sha256}"`);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(content: Buffer | Readable): Promise<StoredBlob> {
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = join(this.tmpDir, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
    try {
      await pipeline(source, measure, createWriteStream(tmp));
      const sha256 = hash.digest('hex');
      const target = this.pathOf(sha256);
      if ((await this.size(sha256)) === size) {
        await rm(tmp, { force: true });
      } else {
        await mkdir(join(target, '..'), { recursive: true });
        await rename(tmp, target);
      }
      return { sha256, size };
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async open(sha256: string): Promise<Readable> {
    const path = this.pathOf(sha256);
    if ((await this.size(sha256)) === null) throw new BlobNotFoundError(sha256);
    return createReadStream(path);
  }

  async size(sha256: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}
