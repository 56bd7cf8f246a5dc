/**
 * Reading a message again from a blob whose bytes no longer match its name (SHA-256): damaged
 * bytes are no new reading of the message, so the row keeps the reading it has; a blob of the
 * wrong length is one message not read again, and the rest of the page is read.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reparseServices } from '../../src/intake/reparse.js';
import { MessageSchema } from '../../src/store/entities/message.js';
import { tenantFork } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import {
  OFFICE,
  parserFailed,
  readBy,
  startSetting,
  store,
  type Setting,
} from './support/recording.js';
import { TENANT } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe('reading again a message whose stored bytes are damaged', () => {
  let s: Setting;
  beforeAll(async () => {
    s = await startSetting(sqlite, fixtures);
  });
  afterAll(() => s?.close());
  const row = (id: string) =>
    tenantFork(s.runtime.orm, TENANT).findOneOrFail(MessageSchema, { id });
  const blobPath = (sha256: string) => join(s.blobDir, sha256.slice(0, 2), sha256);

  it('refuses bytes that no longer match their SHA-256 and keeps the reading the message has', async () => {
    const { raw, providerId } = fixtures.envelope(101, [OFFICE]);
    const id = await store(s, raw, readBy(s.withAnchors, raw));
    const before = await row(id);
    expect(before).toMatchObject({
      kind: 'posta-certificata',
      signatureStatus: 'valid',
      providerId,
    });

    // Bit rot / a bad restore: same length, one word of the signed text changed.
    const path = blobPath(before.sha256);
    const bytes = await readFile(path, 'latin1');
    const damaged = bytes.replace('Si chiede cortesemente', 'Si chiede cortesementE');
    expect(damaged).not.toBe(bytes);
    expect(Buffer.byteLength(damaged, 'latin1')).toBe(before.size);
    await writeFile(path, damaged, 'latin1');

    let outcome: unknown;
    try {
      outcome = await reparseServices(s.withAnchors).one(TENANT, id);
    } catch (error) {
      outcome = error;
    }
    // The good reading stays: damaged bytes are not a new reading of the message.
    const after = await row(id);
    expect({
      kind: after.kind,
      signatureStatus: after.signatureStatus,
      problems: after.problems,
    }).toEqual({
      kind: 'posta-certificata',
      signatureStatus: 'valid',
      problems: [],
    });
    expect(after.summary).toEqual(before.summary);
    // And the caller is told this message was not read again (as for bytes that are missing).
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toContain(before.sha256);
  });

  it('reports a blob of the wrong length as one message not read again, and reads the rest of the page', async () => {
    const { raw: shortRaw } = fixtures.envelope(102, [OFFICE]);
    const truncated = await store(s, shortRaw, parserFailed);
    const { raw } = fixtures.envelope(103, [OFFICE]);
    const other = await store(s, raw, parserFailed);
    const t = await row(truncated);
    // A restore that cut the file short.
    await writeFile(blobPath(t.sha256), shortRaw.subarray(0, 200));

    const page = await reparseServices(s.withAnchors)
      .many(TENANT, { kind: 'unparseable', limit: 500 })
      .catch((error: Error) => ({ thrown: `${error.name}: ${error.message}` }));
    expect(page).not.toHaveProperty('thrown');
    const batch = page as Exclude<typeof page, { thrown: string }>;
    expect(batch.failed).toEqual([{ id: truncated, reason: expect.stringContaining(t.sha256) }]);
    expect(batch.results.find((r) => r.id === other)).toMatchObject({ caseOpened: true });
  });
});
