/**
 * A message intake recorded without its content (withheld.ts: the IMAP server listed it but
 * never returned it whole) is `unparseable` under a key of its own. Reading its fragment again
 * (`pectrack messages reparse --kind unparseable` after an upgrade) must not make it stand for
 * the message it is part of.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RECEIPT_TTL_MS } from '../../src/config.js';
import { recordBatch } from '../../src/intake/record.js';
import { reparseServices } from '../../src/intake/reparse.js';
import { withheldFacts } from '../../src/intake/withheld.js';
import { MessageSchema } from '../../src/store/entities/message.js';
import { tenantFork } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { countIntakeEntries } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { freshUid, OFFICE, rowBySha, startSetting, type Setting } from './support/recording.js';
import { TENANT } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe('reading again a message recorded without its content', () => {
  let s: Setting;
  beforeAll(async () => {
    s = await startSetting(sqlite, fixtures);
  });
  afterAll(() => s?.close());
  const row = (id: string) =>
    tenantFork(s.runtime.orm, TENANT).findOneOrFail(MessageSchema, { id });

  /** Records what intake records for a message the server returned only `got` bytes of. */
  const recordWithheld = async (whole: Buffer, got: number) => {
    const partial = whole.subarray(0, got);
    const stored = await s.withAnchors.blobs.put(partial);
    const uid = freshUid();
    const position = { mailboxId: s.mailboxId, folder: 'INBOX', uidValidity: '1', lastUid: uid };
    const since = new Date(Date.now() - 3_600_000);
    const facts = withheldFacts(
      stored.sha256,
      position,
      { uid, size: whole.length, gotBytes: got },
      { uid, passes: 3, since },
    );
    await recordBatch(
      s.runtime.orm,
      TENANT,
      position,
      [{ uid, ...stored, facts, event: null }],
      new Date(),
      {
        receiptTimeToLiveMs: DEFAULT_RECEIPT_TTL_MS,
      },
    );
    return (await rowBySha(s.runtime, stored.sha256, s.mailboxId)).id;
  };

  it('keeps a withheld message as recorded: no provider id taken from its partial bytes, no case opened', async () => {
    const { raw } = fixtures.envelope(201, [OFFICE]);
    const id = await recordWithheld(raw, 3000);
    const before = await row(id);
    expect(before.kind).toBe('unparseable');
    expect(before.dedupeKey).toMatch(/^withheld:/);
    const entries = await countIntakeEntries(s.runtime.orm);

    const page = await reparseServices(s.withAnchors).many(TENANT, {
      kind: 'unparseable',
      limit: 500,
    });
    const result = page.results.find((r) => r.id === id);

    const after = await row(id);
    // Its key of its own stays: the truncated bytes must not stand for the PEC they are part of.
    expect.soft(after.dedupeKey).toBe(before.dedupeKey);
    // A case is not opened from bytes the server never returned whole.
    expect.soft(result?.caseOpened ?? false).toBe(false);
    expect.soft(await countIntakeEntries(s.runtime.orm)).toBe(entries);
    // What a person needs to find it (folder, UID, size) stays on the row.
    expect.soft(after.summary.withheld).toEqual(before.summary.withheld);
    // Asked for by id, it is refused, naming why.
    await expect(reparseServices(s.withAnchors).one(TENANT, id)).rejects.toMatchObject({
      code: 'recorded-without-content',
      status: 409,
    });
    expect(await row(id)).toMatchObject({ dedupeKey: before.dedupeKey, kind: 'unparseable' });
  });
});
