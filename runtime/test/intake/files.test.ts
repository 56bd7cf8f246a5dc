/**
 * Files uploaded to attach to certified messages, on SQLite and PostgreSQL: streamed into the
 * blob store, read back, and reached only by the tenant that uploaded them (blobs are shared by
 * content across tenants, the rows are not).
 */
import { createHash } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { unparseableFacts } from '../../src/intake/facts.js';
import { fileServices, type FileServices } from '../../src/intake/files.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { recordBatch } from '../../src/intake/record.js';
import { referencedBlobs } from '../../src/store/blob-references.js';
import type { FileBlobStore } from '../../src/store/blobs.js';
import { ensureTenant } from '../../src/store/tenants.js';
import { testDatabases } from '../support/databases.js';
import { useRuntime } from '../support/runtime.js';
import { useIntakeContext } from './support/context.js';

const MB = 1024 * 1024;

/** The bytes in chunks, as a request body arrives. */
async function* chunked(bytes: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`uploaded files on ${database.kind}`, () => {
    const runtime = useRuntime(database);
    let clock = Date.UTC(2026, 10, 28, 9, 0, 0);
    const clockStep = () => (clock += 1_000);
    const intake = useIntakeContext(runtime, { now: () => new Date(clock) });
    let files: FileServices;

    beforeAll(async () => {
      files = fileServices(intake());
      await ensureTenant(runtime().orm, 'comune-a');
      await ensureTenant(runtime().orm, 'comune-b');
    });

    const upload = (tenantId: string, bytes: Buffer, maxBytes = 10 * MB) =>
      files.upload(tenantId, {
        filename: 'C:\\Documenti\\Ordinanza 7.pdf',
        contentType: 'application/pdf',
        content: chunked(bytes),
        maxBytes,
        createdBy: 'protocollo',
      });

    it('stores the bytes under their SHA-256 and gives them back, only to their tenant', async () => {
      const bytes = Buffer.from(Array.from({ length: 2 * MB + 17 }, (_, n) => (n * 31) % 251));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const file = await upload('comune-a', bytes);

      expect(file).toMatchObject({ sha256, size: bytes.length, filename: 'Ordinanza 7.pdf' });
      expect(await files.get('comune-a', file.id)).toEqual(file);
      expect(Buffer.compare((await files.content('comune-a', file.id))!.content, bytes)).toBe(0);
      expect(await files.holds('comune-a', sha256)).toBe(true);

      await expect(files.get('comune-b', file.id)).rejects.toMatchObject({ status: 404 });
      expect(await files.content('comune-b', file.id)).toBeNull();
      expect(await files.holds('comune-b', sha256)).toBe(false);
      // The same bytes uploaded by the other tenant: its own file, the blob shared.
      const theirs = await upload('comune-b', bytes);
      expect(theirs.id).not.toBe(file.id);
      expect(await files.holds('comune-b', sha256)).toBe(true);
    });

    it("lists the tenant's files newest first, and forgets one only for the tenant that owns it", async () => {
      const older = await upload('comune-b', Buffer.from('primo'));
      clockStep();
      const newer = await upload('comune-b', Buffer.from('secondo'));
      const listed = (await files.list('comune-b', {})).map((f) => f.id);
      expect(listed.indexOf(newer.id)).toBeLessThan(listed.indexOf(older.id));
      expect((await files.list('comune-a', {})).map((f) => f.id)).not.toContain(newer.id);
      expect(await files.list('comune-b', { limit: 1 })).toEqual([newer]);

      await expect(files.remove('comune-a', newer.id)).rejects.toMatchObject({ status: 404 });
      await files.remove('comune-b', newer.id);
      await expect(files.get('comune-b', newer.id)).rejects.toMatchObject({ status: 404 });
      expect(await files.holds('comune-b', newer.sha256)).toBe(false);
      await expect(files.remove('comune-b', newer.id)).rejects.toMatchObject({ status: 404 });
      expect(await files.get('comune-b', older.id)).toEqual(older);
    });

    it('stops reading past the limit and records nothing; refuses a name it cannot carry', async () => {
      const tooLarge = Buffer.alloc(MB + 1, 3);
      await expect(upload('comune-a', tooLarge, MB)).rejects.toMatchObject({
        status: 413,
        details: { limitBytes: MB },
      });
      expect(
        await files.holds('comune-a', createHash('sha256').update(tooLarge).digest('hex')),
      ).toBe(false);
      await expect(
        files.upload('comune-a', {
          filename: 'a\u0007b.pdf',
          contentType: 'application/pdf',
          content: chunked(Buffer.from('x')),
          maxBytes: MB,
          createdBy: 'protocollo',
        }),
      ).rejects.toMatchObject({ status: 400, details: { field: 'filename' } });
    });

    it("removes a deleted file's bytes at the sweep once nothing refers to them, in any tenant", async () => {
      const store = intake().blobs as FileBlobStore;
      const received = Buffer.from('Delivered-To: protocollo@comune-b.pec.test\r\n\r\nistanza\r\n');
      const [gone, shared, young, asMessage] = await Promise.all(
        ['ordinanza revocata', 'delibera condivisa', 'appena caricato', received].map((bytes) =>
          upload('comune-a', Buffer.from(bytes)),
        ),
      );
      // The same bytes kept by the other tenant: as its own file, and as a message it received.
      await upload('comune-b', Buffer.from('delibera condivisa'));
      const mailbox = await mailboxServices(intake()).create('comune-b', {
        name: 'Protocollo',
        address: 'protocollo@comune-b.pec.test',
        imap: { host: '127.0.0.1', port: 143, tls: true },
        username: 'protocollo',
        password: 'segreto',
        enabled: false,
      });
      const stored = await store.put(received);
      const position = { mailboxId: mailbox.id, folder: 'INBOX', uidValidity: '1', lastUid: 1 };
      const facts = unparseableFacts(stored.sha256, 'non letto');
      await recordBatch(
        runtime().orm,
        'comune-b',
        position,
        [{ uid: 1, ...stored, facts, event: null }],
        new Date(),
      );
      for (const file of [gone, shared, young, asMessage]) await files.remove('comune-a', file!.id);
      // A blob of the two-level layout earlier versions wrote, referred to by nothing.
      const legacyBytes = Buffer.from('scritto da una versione precedente');
      const legacy = createHash('sha256').update(legacyBytes).digest('hex');
      const legacyPath = join(dirname(store.pathOf(legacy)), legacy.slice(2, 4), legacy);
      await mkdir(dirname(legacyPath), { recursive: true });
      await writeFile(legacyPath, legacyBytes);
      const hourAgo = new Date(Date.now() - 3_600_000);
      for (const sha256 of [gone!.sha256, shared!.sha256, asMessage!.sha256])
        await utimes(store.pathOf(sha256), hourAgo, hourAgo);
      await utimes(legacyPath, hourAgo, hourAgo);

      const swept = await store.sweepUnreferenced(30 * 60_000, (names) =>
        referencedBlobs(runtime().orm, names),
      );
      expect(swept).toEqual({ removed: 2, bytes: gone!.size + legacyBytes.length });
      const sizes = await Promise.all(
        [gone!.sha256, legacy, shared!.sha256, asMessage!.sha256, young!.sha256].map((sha256) =>
          store.size(sha256),
        ),
      );
      expect(sizes).toEqual([null, null, shared!.size, asMessage!.size, young!.size]);
    });
  });
}
