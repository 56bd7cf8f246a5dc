/**
 * The message feed: every message in the order it was stored, a page at a time behind a
 * cursor, and (PostgreSQL) never past a message whose transaction is still open, so a message
 * that commits later than one stored after it is not skipped.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { beforeAll, describe, expect, it } from 'vitest';
import { messageFeed, type MessageFeed } from '../../src/intake/feed.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { useRuntime } from '../support/runtime.js';
import { useIntakeContext } from './support/context.js';

const TENANT = 'default';

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`the message feed on ${database.kind}`, () => {
    const runtime = useRuntime(database);
    const intake = useIntakeContext(runtime);
    let feed: MessageFeed;
    let knex: Knex;
    let next = 0;

    beforeAll(() => {
      feed = messageFeed(intake());
      knex = knexOf(runtime().orm);
    });

    /** A stored incoming message, dated `receivedAt`, through `db` (a transaction or not). */
    const store = async (db: Knex | Knex.Transaction, receivedAt = new Date()) => {
      const n = next++;
      const id = randomUUID();
      await db('message').insert({
        id,
        tenant_id: TENANT,
        direction: 'in',
        mailbox_id: 'mailbox-1',
        folder: 'INBOX',
        uid: n + 1,
        dedupe_key: `in:feed-${n}`,
        kind: 'posta-certificata',
        provider_id: `opec.feed-${n}@pec.test`,
        subject: `Istanza ${n}`,
        sender: `cittadino${n}@mittente.pec.test`,
        recipients: '[]',
        sha256: 'a'.repeat(64),
        size: 100,
        summary: '{}',
        problems: '[]',
        received_at: receivedAt,
      });
      return { id, subject: `Istanza ${n}` };
    };
    const subjects = (page: { messages: { subject: string | null }[] }) =>
      page.messages.map((m) => m.subject);

    it('gives every message in the order stored, a page at a time, whatever its date', async () => {
      const stored = [];
      // The third is dated a day earlier (a mailbox synced late): the feed still gives it third.
      for (const receivedAt of [new Date(), new Date(), new Date(Date.now() - 86_400_000)])
        stored.push(await store(knex, receivedAt));
      stored.push(await store(knex), await store(knex));
      const first = await feed.read(TENANT, { limit: 2 });
      const second = await feed.read(TENANT, { after: first.cursor!, limit: 2 });
      const third = await feed.read(TENANT, { after: second.cursor!, limit: 2 });
      expect([...subjects(first), ...subjects(second), ...subjects(third)]).toEqual(
        stored.map((s) => s.subject),
      );
      const caughtUp = await feed.read(TENANT, { after: third.cursor! });
      expect(caughtUp).toEqual({ messages: [], cursor: third.cursor });
      const later = await store(knex);
      expect(subjects(await feed.read(TENANT, { after: third.cursor! }))).toEqual([later.subject]);
    });

    it('refuses a cursor it did not give, naming the field', async () => {
      await expect(feed.read(TENANT, { after: 'not-a-cursor' })).rejects.toMatchObject({
        code: 'invalid-cursor',
        details: { field: 'after' },
      });
    });

    // Only PostgreSQL commits two writers at once.
    if (database.kind === 'postgresql')
      it('does not pass a message whose transaction is still open when a later one commits first', async () => {
        const head = (await feed.read(TENANT, { limit: 500 })).cursor!;
        const open = await knex.transaction();
        try {
          const early = await store(open);
          const late = await store(knex);
          expect(await feed.read(TENANT, { after: head })).toEqual({ messages: [], cursor: head });
          await open.commit();
          expect(subjects(await feed.read(TENANT, { after: head }))).toEqual([
            early.subject,
            late.subject,
          ]);
        } finally {
          if (!open.isCompleted()) await open.rollback();
        }
      });
  });
}
