/**
 * A commit that fails in the middle of a folder sync, with later batches already fetched and
 * parsed: nothing after the failed batch is committed, the checkpoint stays at the last
 * committed message, and the next sync takes the rest without storing anything twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedupeKeyOf } from '../../src/intake/facts.js';
import { runMailboxSession } from '../../src/intake/index.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { checkpointOf, countIntakeEntries, countMessages } from './support/counts.js';
import { holdIntakeKey } from './support/outbox.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const ADDRESS = 'protocollo@comune.pec.test';
const MESSAGES = 50;
/** Batches of 10: message 25 is in the third, and the fourth and fifth are fetched meanwhile. */
const BATCH = 10;
const BLOCKED = 24;

describe.skipIf(Boolean(dovecotMissing))('a commit failing mid-sync', () => {
  let h: IntakeHarness;
  let mailboxId: string;
  const envelopes = Array.from({ length: MESSAGES }, (_, n) => fixtures.envelope(n, [ADDRESS]));
  let blockingKey: string;

  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { batchMessages: BATCH });
    mailboxId = await h.addMailbox(ADDRESS);
    await h.append(
      ADDRESS,
      envelopes.map((e) => e.raw),
    );
    // An intake entry already holds the key message 25 will need: its batch cannot commit.
    blockingKey = await holdIntakeKey(
      h.runtime.orm,
      TENANT,
      dedupeKeyOf(envelopes[BLOCKED]!.providerId, ''),
    );
  });
  afterAll(async () => h?.close());

  it('keeps the batches before the failure, nothing after it, and the checkpoint between', async () => {
    await expect(runMailboxSession(h.ctx, TENANT, mailboxId, { once: true })).rejects.toThrow(
      /UNIQUE|unique/,
    );
    expect(await countMessages(h.runtime.orm)).toBe(20);
    expect((await checkpointOf(h.runtime.orm, mailboxId))?.last_uid).toBe(20);
    const uids = await knexOf(h.runtime.orm)('message').max({ uid: 'uid' }).first();
    expect(Number(uids?.uid)).toBe(20);
  });

  it('takes the rest on the next sync once the conflict is gone, storing nothing twice', async () => {
    await knexOf(h.runtime.orm)('outbox').where({ idempotency_key: blockingKey }).delete();
    const summary = await runMailboxSession(h.ctx, TENANT, mailboxId, { once: true });
    expect(summary).toMatchObject({ stoppedBy: 'once' });
    expect(await countMessages(h.runtime.orm)).toBe(MESSAGES);
    expect(await countIntakeEntries(h.runtime.orm)).toBe(MESSAGES);
    expect((await checkpointOf(h.runtime.orm, mailboxId))?.last_uid).toBe(MESSAGES);
    const [{ n } = { n: 0 }] = await knexOf(h.runtime.orm)('message').countDistinct({ n: 'uid' });
    expect(Number(n)).toBe(MESSAGES);
  });
});
