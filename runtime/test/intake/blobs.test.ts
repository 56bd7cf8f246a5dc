/** The content-addressed blob store on the local file system. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlobDamagedError,
  BlobNotFoundError,
  FileBlobStore,
  WRITE_IN_PLACE_MAX_BYTES,
} from '../../src/store/blobs.js';

describe('FileBlobStore', () => {
  let dir: string;
  let store: FileBlobStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pectrack-blob-test-'));
    store = new FileBlobStore(dir);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  // Element by element, toEqual takes seconds over a megabyte.
  const sameBytes = (a: Buffer, b: Buffer) => a.equals(b);

  const read = async (sha256: string) => {
    const chunks: Buffer[] = [];
    for await (const chunk of await store.open(sha256)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  it('names a blob by the SHA-256 of its bytes and gives them back', async () => {
    const content = randomBytes(100_000);
    const stored = await store.put(content);
    expect(stored).toEqual({
      sha256: createHash('sha256').update(content).digest('hex'),
      size: content.length,
    });
    expect(sameBytes(await read(stored.sha256), content)).toBe(true);
  });

  it('stores a stream chunk by chunk to the same address as the same bytes in one buffer', async () => {
    const content = randomBytes(300_000);
    const chunks = [
      content.subarray(0, 1),
      content.subarray(1, 200_000),
      content.subarray(200_000),
    ];
    const fromStream = await store.put(Readable.from(chunks));
    expect(fromStream).toEqual(await store.put(content));
    expect(sameBytes(await read(fromStream.sha256), content)).toBe(true);
  });

  it('leaves no temporary files behind, even for a stream that fails', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(store.put(failing)).rejects.toThrow('connection reset');
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    const everything = await readdir(dir, { recursive: true });
    expect(everything.filter((path) => path.endsWith('.tmp'))).toEqual([]);
  });

  // Written on the calling thread up to the limit, by libuv's pool above it.
  const bufferSizes = [4_000, WRITE_IN_PLACE_MAX_BYTES + 1];

  it.each(bufferSizes)(
    'writes a buffer of %i bytes beside its name and puts a fan-out directory removed meanwhile back',
    async (bytes) => {
      const content = randomBytes(bytes);
      const sha256 = createHash('sha256').update(content).digest('hex');
      const fanOut = join(dir, sha256.slice(0, 2));
      await store.put(content);
      await rm(fanOut, { recursive: true, force: true });
      expect(await store.put(content)).toEqual({ sha256, size: content.length });
      expect(await readdir(fanOut)).toEqual([sha256]);
      expect(sameBytes(await read(sha256), content)).toBe(true);
    },
  );

  it.each(bufferSizes)(
    'keeps nothing of a buffer of %i bytes it could not store',
    async (bytes) => {
      const own = await mkdtemp(join(tmpdir(), 'pectrack-blob-full-'));
      const blocked = new FileBlobStore(own);
      const content = randomBytes(bytes);
      const sha256 = createHash('sha256').update(content).digest('hex');
      // The blob's name taken by a directory: the rename fails after the write succeeded.
      await mkdir(join(own, sha256.slice(0, 2), sha256, 'occupied'), { recursive: true });
      await expect(blocked.put(content)).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
      expect(await readdir(join(own, sha256.slice(0, 2)))).toEqual([sha256]);
      await rm(own, { recursive: true, force: true });
    },
  );

  it('keeps a blob one directory deep and still reads one a two-level store wrote', async () => {
    const content = randomBytes(2_000);
    const { sha256 } = await store.put(content);
    expect(store.pathOf(sha256)).toBe(join(dir, sha256.slice(0, 2), sha256));
    expect(await readdir(join(dir, sha256.slice(0, 2)))).toContain(sha256);

    const older = randomBytes(3_000);
    const olderSha = createHash('sha256').update(older).digest('hex');
    const legacyDir = join(dir, olderSha.slice(0, 2), olderSha.slice(2, 4));
    await mkdir(legacyDir, { recursive: true });
    await writeFile(join(legacyDir, olderSha), older);
    expect(await store.size(olderSha)).toBe(older.length);
    expect(await read(olderSha)).toEqual(older);
  });

  it('reads a blob whole, from either layout, and refuses one of another length than expected', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const { sha256 } = await store.put(content);
    expect(sameBytes(await store.read(sha256), content)).toBe(true);
    expect(sameBytes(await store.read(sha256, content.length), content)).toBe(true);
    await expect(store.read(sha256, content.length - 1)).rejects.toThrow(
      new BlobDamagedError(
        sha256,
        `it holds ${content.length} bytes, not the ${content.length - 1} stored`,
      ),
    );
    const older = randomBytes(5_000);
    const olderSha = createHash('sha256').update(older).digest('hex');
    const legacyDir = join(dir, olderSha.slice(0, 2), olderSha.slice(2, 4));
    await mkdir(legacyDir, { recursive: true });
    await writeFile(join(legacyDir, olderSha), older);
    expect(await store.read(olderSha, older.length)).toEqual(older);
    await expect(store.read('1'.repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('refuses a blob whose bytes no longer hash to its name, whatever its length', async () => {
    const content = randomBytes(4_096);
    const { sha256 } = await store.put(content);
    // Bit rot, a bad restore: the same length, one byte changed.
    const damaged = Buffer.from(content);
    damaged[2_000] ^= 0xff;
    await writeFile(store.pathOf(sha256), damaged);
    const reading = store.read(sha256, content.length);
    await expect(reading).rejects.toBeInstanceOf(BlobDamagedError);
    await expect(reading).rejects.toThrow(
      `blob ${sha256} is damaged: its bytes no longer hash to its name`,
    );
  });

  it('reports a missing blob and refuses a malformed address', async () => {
    await expect(store.open('0'.repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.size('0'.repeat(64))).toBeNull();
    await expect(store.open('../../etc/passwd')).rejects.toThrow(/64 lowercase hex/);
  });

  it('sweeps the temporary files an interrupted write left, and nothing else', async () => {
    const own = await mkdtemp(join(tmpdir(), 'pectrack-blob-sweep-'));
    const swept = new FileBlobStore(own);
    const blob = await swept.put(randomBytes(2_000));
    const fanOut = join(own, blob.sha256.slice(0, 2));
    const beside = (uuid: string) => join(fanOut, `.${blob.sha256}.${uuid}.tmp`);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const planted = {
      oldInTmp: join(own, 'tmp', randomUUID()),
      oldBeside: beside(randomUUID()),
      freshBeside: beside(randomUUID()),
      foreign: join(fanOut, 'appunti.txt'),
    };
    await mkdir(join(own, 'tmp'), { recursive: true });
    for (const [name, path] of Object.entries(planted)) {
      await writeFile(path, Buffer.alloc(name === 'oldInTmp' ? 700 : 300));
      if (name !== 'freshBeside') await utimes(path, hourAgo, hourAgo);
    }
    await utimes(swept.pathOf(blob.sha256), hourAgo, hourAgo);

    expect(await swept.sweepTemporaryFiles(30 * 60_000)).toEqual({ removed: 2, bytes: 1_000 });
    expect((await readdir(fanOut)).sort()).toEqual(
      [blob.sha256, 'appunti.txt', basename(planted.freshBeside)].sort(),
    );
    expect(await readdir(join(own, 'tmp'))).toEqual([]);
    expect(await swept.size(blob.sha256)).toBe(2_000);
    expect(await new FileBlobStore(join(own, 'never-written')).sweepTemporaryFiles(0)).toEqual({
      removed: 0,
      bytes: 0,
    });
    await rm(own, { recursive: true, force: true });
  });

  it('keeps an unreferenced blob put again while the sweep looked up its references', async () => {
    const own = await mkdtemp(join(tmpdir(), 'pectrack-blob-unreferenced-'));
    const swept = new FileBlobStore(own);
    const [again, orphan] = [randomBytes(1_500), randomBytes(700)];
    const blobs = [await swept.put(again), await swept.put(orphan)];
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const blob of blobs) await utimes(swept.pathOf(blob.sha256), hourAgo, hourAgo);
    const result = await swept.sweepUnreferenced(30 * 60_000, async () => {
      // A new upload of the same bytes, its row not committed yet: nothing refers to it so far.
      await swept.put(again);
      return new Set();
    });
    expect(result).toEqual({ removed: 1, bytes: 700 });
    expect(await swept.size(blobs[0]!.sha256)).toBe(1_500);
    expect(await swept.size(blobs[1]!.sha256)).toBeNull();
    // Nothing left aside either.
    expect(await swept.sweepTemporaryFiles(0)).toEqual({ removed: 0, bytes: 0 });
    await rm(own, { recursive: true, force: true });
  });

  it('puts back a blob a sweep that died left aside, instead of removing it as a temporary file', async () => {
    // removeIfStillOld moves a blob aside to read its age again: should the process die right
    // there, the blob (possibly bytes put again for a row about to commit) must come back.
    const own = await mkdtemp(join(tmpdir(), 'pectrack-blob-aside-'));
    const swept = new FileBlobStore(own);
    const [lost, doubled] = [randomBytes(1_200), randomBytes(800)];
    const blobs = [await swept.put(lost), await swept.put(doubled)];
    const hourAgo = new Date(Date.now() - 3_600_000);
    const aside = (sha256: string) => join(own, sha256.slice(0, 2), `.${sha256}.aside`);
    // The first was moved aside and never came back; the second came back (put again) beside its aside copy.
    await rename(swept.pathOf(blobs[0]!.sha256), aside(blobs[0]!.sha256));
    await writeFile(aside(blobs[1]!.sha256), doubled);
    for (const blob of blobs) await utimes(aside(blob.sha256), hourAgo, hourAgo);

    const result = await swept.sweepTemporaryFiles(30 * 60_000);
    expect({
      result,
      sizes: [await swept.size(blobs[0]!.sha256), await swept.size(blobs[1]!.sha256)],
      same: (await swept.read(blobs[0]!.sha256)).equals(lost),
      leftAside: (await readdir(own, { recursive: true })).filter((n) => n.endsWith('.aside')),
    }).toEqual({
      result: { removed: 0, bytes: 0 },
      sizes: [1_200, 800],
      same: true,
      leftAside: [],
    });
    await rm(own, { recursive: true, force: true });
  });

  describe('flush, the durability barrier before a commit', () => {
    it('syncs the file system once (sync -f), falling back to fsync per file when that fails', async () => {
      const own = await mkdtemp(join(tmpdir(), 'pectrack-blob-flush-'));
      const synced = new FileBlobStore(own, { syncCommand: true });
      await synced.put(randomBytes(10_000));
      await expect(synced.flush()).resolves.toBeUndefined();
      await rm(own, { recursive: true, force: true });
      const gone = new FileBlobStore(join(own, 'missing'), { syncCommand: true });
      (gone as unknown as { unflushed: Set<string> }).unflushed.add(join(own, 'missing', 'x'));
      await expect(gone.flush()).rejects.toThrow(/ENOENT.*missing/);
    });

    it('fsyncs each new file otherwise, and keeps what failed for the next flush', async () => {
      const own = await mkdtemp(join(tmpdir(), 'pectrack-blob-flush-'));
      const store = new FileBlobStore(own, { syncCommand: false });
      const content = randomBytes(5_000);
      const { sha256 } = await store.put(content);
      await rm(store.pathOf(sha256));
      await expect(store.flush()).rejects.toThrow(/ENOENT/);
      await expect(store.flush()).rejects.toThrow(/ENOENT/);
      await store.put(content);
      await expect(store.flush()).resolves.toBeUndefined();
      await rm(own, { recursive: true, force: true });
    });
  });
});
