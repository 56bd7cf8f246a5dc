/**
 * The parse pool closed while a pass is running (the runtime stopping): a message the pool
 * refuses from then on was read by nobody. It must not be recorded as `unparseable` with the
 * checkpoint moved past it: the batch fails, and the next run reads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createIntakeContext,
  runMailboxSession,
  type IntakeContext,
} from '../../src/intake/index.js';
import { knexOf } from '../../src/store/orm.js';
import { FileBlobStore } from '../../src/store/blobs.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const TOTAL = 100;
const CLOSE_AT_PARSE = 25;

describe.skipIf(Boolean(dovecotMissing))('parse pool closed during a pass', () => {
  let h: IntakeHarness;
  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000, batchMessages: 10 });
  }, 120_000);
  afterAll(async () => h?.close());

  function contextWithPool(closeAt: number | null): IntakeContext {
    const ctx = createIntakeContext({
      orm: h.runtime.orm,
      blobs: new FileBlobStore(h.blobDir),
      secretKey: h.secretKey,
      trustAnchors: [fixtures.ca.certificatePem],
      parseWorkers: 1,
      limits: { pollMs: 10 * 60_000, batchMessages: 10 },
    });
    if (closeAt === null) return ctx;
    let calls = 0;
    const parse = ctx.parse.bind(ctx);
    // The shutdown lands while the pass is parsing: the 25th message is handed to the pool,
    // then the pool is closed, as runtime.stop() does through intakeContext.close().
    ctx.parse = (raw, options) => {
      const parsing = parse(raw, options);
      if (++calls === closeAt) void ctx.close();
      return parsing;
    };
    return ctx;
  }

  it('records no good message as unparseable, and the next run reads them all', async () => {
    const address = 'chiusura@comune.pec.test';
    const mailboxId = await h.addMailbox(address);
    const envelopes = Array.from({ length: TOTAL }, (_, n) => fixtures.envelope(n, [address]));
    await h.append(
      address,
      envelopes.map((e) => e.raw),
    );

    const stopping = contextWithPool(CLOSE_AT_PARSE);
    await runMailboxSession(stopping, TENANT, mailboxId, { once: true }).catch(() => undefined);
    await stopping.close();

    const restarted = contextWithPool(null);
    try {
      await runMailboxSession(restarted, TENANT, mailboxId, { once: true });
    } finally {
      await restarted.close();
    }

    const rows = (await knexOf(h.runtime.orm)('message')
      .where({ mailbox_id: mailboxId })
      .orderBy('uid')
      .select('uid', 'kind', 'problems')) as { uid: number; kind: string; problems: unknown }[];
    const unparseable = rows.filter((r) => r.kind !== 'posta-certificata');
    expect(
      unparseable.length,
      `good messages stored as unparseable by the shutdown, e.g. ${JSON.stringify(unparseable[0])}`,
    ).toBe(0);
    expect(rows.map((r) => r.uid)).toEqual(envelopes.map((_, n) => n + 1));
  });
});
