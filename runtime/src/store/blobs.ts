/**
 * Content-addressed blob store for raw messages and attachments (ARCHITECTURE §4): a blob's
 * name is the SHA-256 of its bytes, so storing the same message twice costs nothing and a
 * stored blob can be checked against its name. Writes go through a temporary file and
 * are renamed into place only once complete, so a crash never leaves a truncated blob under
 * a valid name. The interface is what an S3-compatible store would implement too.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  renameSync,
  writeFileSync,
  type Dirent,
} from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  opendir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FilesystemSync } from './filesystem-sync.js';

export interface StoredBlob {
  sha256: string;
  size: number;
}

export interface BlobStore {
  /** Stores bytes (a Buffer or a stream, never collected in memory) and returns their address. */
  put(content: Buffer | Readable): Promise<StoredBlob>;
  /**
   * Streams a stored blob; when it is absent the promise fails with BlobNotFoundError, not the
   * stream (a download answers that before its headers).
   */
  open(sha256: string): Promise<Readable>;
  /**
   * A stored blob whole, in one buffer of its size (collecting a stream's chunks and joining
   * them would hold a 30 MB message twice), checked against its name: BlobDamagedError when
   * its bytes do not hash to it, or are not the `size` the caller expects.
   */
  read(sha256: string, size?: number): Promise<Buffer>;
  size(sha256: string): Promise<number | null>;
  /**
   * A barrier: every blob put so far survives a power loss once it resolves. Called before a
   * commit that refers to new blobs, so a durable row never names bytes that were still in cache.
   */
  flush(): Promise<void>;
}

/** One helper per process, shared by every store. */
let filesystemSync: FilesystemSync | undefined;

/** syncfs(2) on DIR's file system; false when that is not possible here. */
async function syncFilesystemOf(dir: string): Promise<boolean> {
  filesystemSync ??= new FilesystemSync();
  try {
    await filesystemSync.sync(dir);
    return true;
  } catch {
    return false;
  }
}

/** The portable way: each file's data, then each directory that gained an entry. */
async function fsyncEach(paths: Iterable<string>): Promise<void> {
  const files = [...paths];
  const dirs = new Set(files.map((path) => dirname(path)));
  for (const group of [files, [...dirs]])
    await Promise.all(
      group.map(async (path) => {
        const handle = await open(path, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    );
}

/** A directory's entries, streamed (a fan-out directory may hold tens of thousands); none if absent. */
async function entriesOf(dir: string): Promise<AsyncIterable<Dirent>> {
  try {
    return await opendir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return (async function* () {})();
    throw error;
  }
}

export class BlobNotFoundError extends Error {
  readonly code = 'blob-not-found';
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is not in the store`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * A stored blob whose bytes no longer match its name (a disk error, a bad restore, a hand
 * edit): they are not the bytes that were stored, and must not pass for them.
 */
export class BlobDamagedError extends Error {
  readonly code = 'blob-damaged';
  constructor(
    readonly sha256: string,
    readonly reason: string,
  ) {
    super(`blob ${sha256} is damaged: ${reason}`);
    this.name = 'BlobDamagedError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/**
 * The temporary file a buffered put writes beside its blob: a leading dot and a suffix, never
 * a blob's name, so never served or counted as one; the sweep knows it by the same pattern.
 */
const temporaryBeside = (sha256: string) => `.${sha256}.${randomUUID()}.tmp`;
const TEMPORARY_BESIDE = /^\.[0-9a-f]{64}\.[0-9a-f-]{36}\.tmp$/;
/**
 * A blob the unreferenced sweep moved aside to read its age again (removeIfStillOld): a dot
 * name, never served. One left behind by a sweep that died there is put back, never removed:
 * it may be bytes put again for a row about to commit.
 */
const asideOf = (sha256: string) => `.${sha256}.aside`;
const ASIDE = /^\.([0-9a-f]{64})\.aside$/;
const FAN_OUT_DIR = /^[0-9a-f]{2}$/;
/** A buffer up to this size is written on the calling thread (see putBuffer). */
export const WRITE_IN_PLACE_MAX_BYTES = 1024 * 1024;

/** Names asked about at once: one query per this many blobs. */
const UNREFERENCED_BATCH = 500;

export interface SweepResult {
  removed: number;
  bytes: number;
}

export class FileBlobStore implements BlobStore {
  private readonly tmpDir: string;
  private tmpReady: Promise<void> | undefined;
  private readonly knownDirs = new Set<string>();
  /** Files and directories written since the last flush. */
  private unflushed = new Set<string>();
  private readonly syncFilesystem: boolean;

  /**
   * `syncCommand`: on Linux, coreutils `sync -f` (syncfs) makes a whole batch durable in one
   * journal commit, several times cheaper than a fsync per file; elsewhere, with `false`, or
   * when it fails, each new file and its directory is fsynced.
   */
  constructor(
    private readonly root: string,
    options: { syncCommand?: boolean } = {},
  ) {
    this.tmpDir = join(root, 'tmp');
    this.syncFilesystem = options.syncCommand ?? process.platform === 'linux';
  }

  /**
   * One level of fan-out: 256 directories, each created once. Ten million blobs make 40,000
   * entries a directory, which indexed directories (ext4, XFS) look up directly; a second level
   * cost a `mkdir` for nearly every blob of a young store (65,536 directories to create).
   */
  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256))
      throw new Error(`sha256 must be 64 lowercase hex digits, got "${sha256}"`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  /** Where stores written before the one-level layout keep a blob: still read, never written. */
  private legacyPathOf(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(content: Buffer | Readable): Promise<StoredBlob> {
    return Buffer.isBuffer(content) ? this.putBuffer(content) : this.putStream(content);
  }

  /**
   * The common case (a message under the streaming threshold): hashed in one call and written
   * in one call, without a stream pipeline per message. Renaming over an existing blob is
   * harmless (same name, same bytes), so no stat precedes it.
   *
   * The name being known before the write, the temporary file goes beside its target rather
   * than in tmp/: a rename within one directory locks that directory, while one across
   * directories takes the file system's single rename lock, which libuv's four threads then
   * fight over. On this project's 2-core VM (ext4), writing 10,000 messages of 23 KB, 18 runs
   * of each alternating: median kernel time 2.5 s renamed within the directory, 6.4 s from tmp/
   * (lower in 15 of the 18 pairs; the host's load spreads each from 1 to 12 s).
   *
   * Up to WRITE_IN_PLACE_MAX_BYTES the write and the rename run on the calling thread: handing
   * each of a message's open, write, close and rename to libuv's pool and back cost more than
   * the system calls themselves (ad-hoc script, 10,000 files of 23 KB: 0.6-1.5 s of CPU in
   * place, 3.2-4.0 s through the pool). The event loop is held briefly: over bench:ingest's
   * 20,000 writes (23 KB typical) the median was 0.06 ms, the 99.9th percentile 4.4 ms and the
   * longest 8.4 ms, when a write waited for the journal to commit another batch's flush. A
   * batch's writes follow one another without a turn of the loop, though: storing a batch of
   * 200 held it 10-15 ms (median) and at most 38 ms on a later VM, and up to 67 ms there while
   * creating a file was slow (ext4 without a journal, just after mass deletions: 0.1-0.5 ms a
   * file), about as long as imapflow's own bursts. bench:ingest prints the ingest's event-loop
   * delay beside the raw fetch's.
   */
  private async putBuffer(content: Buffer): Promise<StoredBlob> {
    const sha256 = createHash('sha256').update(content).digest('hex');
    const target = this.pathOf(sha256);
    const dir = dirname(target);
    const tmp = join(dir, temporaryBeside(sha256));
    const write =
      content.length <= WRITE_IN_PLACE_MAX_BYTES
        ? async () => {
            writeFileSync(tmp, content);
            renameSync(tmp, target);
          }
        : async () => {
            await writeFile(tmp, content);
            await rename(tmp, target);
          };
    try {
      await this.inFanOutDir(dir, write);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    this.unflushed.add(target);
    return { sha256, size: content.length };
  }

  private async putStream(source: Readable): Promise<StoredBlob> {
    const tmp = await this.tmpPath();
    const hash = createHash('sha256');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, measure, createWriteStream(tmp));
      const sha256 = hash.digest('hex');
      await this.moveInto(tmp, sha256);
      return { sha256, size };
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  private async tmpPath(): Promise<string> {
    this.tmpReady ??= mkdir(this.tmpDir, { recursive: true }).then(() => undefined);
    try {
      await this.tmpReady;
    } catch (error) {
      this.tmpReady = undefined;
      throw error;
    }
    return join(this.tmpDir, randomUUID());
  }

  /** A streamed blob's name is known only once it is written: it moves from tmp/. */
  private async moveInto(tmp: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    await this.inFanOutDir(dirname(target), () => rename(tmp, target));
    this.unflushed.add(target);
  }

  /**
   * Runs `write` into fan-out directory `dir`, created once per process rather than once per
   * blob; one removed behind our back shows up as ENOENT and is created again.
   */
  private async inFanOutDir(dir: string, write: () => Promise<void>): Promise<void> {
    if (!this.knownDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.knownDirs.add(dir);
    }
    try {
      await write();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(dir, { recursive: true });
      await write();
    }
  }

  /**
   * Removes the temporary files older than `olderThanMs` that a crash mid-write left behind
   * (in tmp/, and beside their blob in the fan-out directories). It reads every fan-out
   * directory, so it is maintenance (`pectrack blobs sweep`), not something each start does;
   * a write in progress is younger than any sensible threshold and is left alone.
   */
  async sweepTemporaryFiles(olderThanMs: number, now = Date.now()): Promise<SweepResult> {
    const result: SweepResult = { removed: 0, bytes: 0 };
    const sweep = async (dir: string, isTemporary: (name: string) => boolean) => {
      for await (const entry of await entriesOf(dir)) {
        if (!entry.isFile() || !isTemporary(entry.name)) continue;
        const path = join(dir, entry.name);
        const info = await lstat(path).catch(() => null);
        if (!info || now - info.mtimeMs < olderThanMs) continue;
        await rm(path, { force: true });
        result.removed += 1;
        result.bytes += info.size;
      }
    };
    await sweep(this.tmpDir, () => true);
    for await (const entry of await entriesOf(this.root))
      if (entry.isDirectory() && FAN_OUT_DIR.test(entry.name)) {
        const dir = join(this.root, entry.name);
        await this.putBackAside(dir);
        await sweep(dir, (name) => TEMPORARY_BESIDE.test(name));
      }
    return result;
  }

  /** Blobs a dead unreferenced sweep left aside go back under their name (or go, if it is back). */
  private async putBackAside(dir: string): Promise<void> {
    for await (const entry of await entriesOf(dir)) {
      const sha256 = entry.isFile() ? ASIDE.exec(entry.name)?.[1] : undefined;
      if (!sha256) continue;
      const aside = join(dir, entry.name);
      if ((await this.size(sha256)) !== null) await rm(aside, { force: true });
      else await rename(aside, this.pathOf(sha256));
    }
  }

  /**
   * Removes the blobs nothing refers to any more (a deleted upload's bytes), not written to for
   * `olderThanMs`: a blob put for a row not yet committed, or put again for a new one (the
   * rename gives it a new mtime), is younger than any sensible threshold and stays. `referenced`
   * answers which of a batch of names some row still refers to, in any tenant (a blob is
   * shared by content). Both layouts are swept.
   */
  async sweepUnreferenced(
    olderThanMs: number,
    referenced: (sha256s: string[]) => Promise<Set<string>>,
    now = Date.now(),
  ): Promise<SweepResult> {
    const result: SweepResult = { removed: 0, bytes: 0 };
    let batch: { path: string; sha256: string; size: number }[] = [];
    const removeUnreferenced = async () => {
      const kept = await referenced(batch.map((b) => b.sha256));
      for (const blob of batch.filter((b) => !kept.has(b.sha256))) {
        if (!(await this.removeIfStillOld(blob, olderThanMs, now))) continue;
        result.removed += 1;
        result.bytes += blob.size;
      }
      batch = [];
    };
    for await (const blob of this.blobsOlderThan(olderThanMs, now)) {
      batch.push(blob);
      if (batch.length >= UNREFERENCED_BATCH) await removeUnreferenced();
    }
    if (batch.length > 0) await removeUnreferenced();
    return result;
  }

  /**
   * The same bytes may have been put again since they were found unreferenced (a new upload of
   * them, its row not committed yet): such a put renames a fresh file over the name. So the
   * blob is first moved aside, atomically, and its age read again: the old file is removed,
   * a fresh one goes back under its name (same name, same bytes, whatever is there now).
   */
  private async removeIfStillOld(
    blob: { path: string; sha256: string },
    olderThanMs: number,
    now: number,
  ): Promise<boolean> {
    // Should we die before it goes back, the temporary sweep puts it back (putBackAside).
    const aside = join(dirname(this.pathOf(blob.sha256)), asideOf(blob.sha256));
    try {
      await rename(blob.path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    const info = await lstat(aside);
    if (now - info.mtimeMs >= olderThanMs) {
      await rm(aside, { force: true });
      return true;
    }
    await rename(aside, blob.path);
    return false;
  }

  /** Every blob of both layouts not written to for `olderThanMs`, one directory at a time. */
  private async *blobsOlderThan(
    olderThanMs: number,
    now: number,
  ): AsyncGenerator<{ path: string; sha256: string; size: number }> {
    const directories: string[] = [];
    for await (const entry of await entriesOf(this.root))
      if (entry.isDirectory() && FAN_OUT_DIR.test(entry.name))
        directories.push(join(this.root, entry.name));
    while (directories.length > 0) {
      const dir = directories.shift()!;
      for await (const entry of await entriesOf(dir)) {
        const path = join(dir, entry.name);
        // The two-level layout's second level.
        if (entry.isDirectory() && FAN_OUT_DIR.test(entry.name)) directories.push(path);
        if (!entry.isFile() || !SHA256_HEX.test(entry.name)) continue;
        const info = await lstat(path).catch(() => null);
        if (info && now - info.mtimeMs >= olderThanMs)
          yield { path, sha256: entry.name, size: info.size };
      }
    }
  }

  async flush(): Promise<void> {
    if (this.unflushed.size === 0) return;
    const written = this.unflushed;
    this.unflushed = new Set();
    try {
      if (this.syncFilesystem && (await syncFilesystemOf(this.root))) return;
      await fsyncEach(written);
    } catch (error) {
      // Not durable yet: the next flush tries these again.
      for (const path of written) this.unflushed.add(path);
      throw error;
    }
  }

  async open(sha256: string): Promise<Readable> {
    const found = await this.locate(sha256);
    if (!found) throw new BlobNotFoundError(sha256);
    return createReadStream(found.path);
  }

  /**
   * One read into one buffer, by the file I/O pool: streaming a 35 MB message in 64 KB chunks
   * and copying them into place cost the main thread about 0.15 s each. The read itself finds
   * the layout (no stat first). Whoever reads a blob whole acts on its bytes (parses them
   * again, serves a message's text), so they are hashed: a few milliseconds a megabyte.
   */
  async read(sha256: string, size?: number): Promise<Buffer> {
    const whole = await this.atFirstPath(sha256, (path) => readFile(path));
    if (!whole) throw new BlobNotFoundError(sha256);
    if (size !== undefined && whole.length !== size)
      throw new BlobDamagedError(sha256, `it holds ${whole.length} bytes, not the ${size} stored`);
    if (createHash('sha256').update(whole).digest('hex') !== sha256)
      throw new BlobDamagedError(sha256, 'its bytes no longer hash to its name');
    return whole;
  }

  async size(sha256: string): Promise<number | null> {
    return (await this.locate(sha256))?.size ?? null;
  }

  private locate(sha256: string): Promise<{ path: string; size: number } | null> {
    return this.atFirstPath(sha256, async (path) => ({ path, size: (await stat(path)).size }));
  }

  /** `use` on the blob's path, else on where the two-level layout kept it; null when in neither. */
  private async atFirstPath<T>(
    sha256: string,
    use: (path: string) => Promise<T>,
  ): Promise<T | null> {
    for (const path of [this.pathOf(sha256), this.legacyPathOf(sha256)]) {
      try {
        return await use(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return null;
  }
}
