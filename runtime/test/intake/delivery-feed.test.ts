/**
 * The delivery feed: every step of the messages sent, in the order stored, a page at a time
 * behind a cursor, and (PostgreSQL) never past a step whose transaction is still open.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliveryFeed, type DeliveryFeed } from '../../src/intake/delivery-feed.js';
import { knexOf } from '../../src/store/orm.js';
import { ensureTenant } from '../../src/store/tenants.js';
import { testDatabases } from '../support/databases.js';
import { useRuntime } from '../support/runtime.js';
import { useIntakeContext } from './support/context.js';

const TENANT = 'default';

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`the delivery feed on ${database.kind}`, () => {
    const runtime = useRuntime(database);
    const intake = useIntakeContext(runtime);
    let feed: DeliveryFeed;
    let knex: Knex;
    let next = 0;

    beforeAll(() => {
      feed = deliveryFeed(intake());
      knex = knexOf(runtime().orm);
    });

    /** A sent message of `tenant`; returns its row id and Message-ID. */
    const sent = async (tenant = TENANT) => {
      const n = next++;
      const id = randomUUID();
      const messageId = `<notifica-${n}@comune.pec.test>`;
      await knex('message').insert({
        id,
        tenant_id: tenant,
        direction: 'out',
        mailbox_id: 'mailbox-1',
        folder: 'INBOX',
        uid: 0,
        dedupe_key: `out:feed-${n}`,
        kind: 'outgoing',
        message_id: messageId,
        subject: `Notifica ${n}`,
        recipients: '[]',
        sha256: 'b'.repeat(64),
        size: 100,
        summary: '{}',
        problems: '[]',
        received_at: new Date(),
      });
      return { id, messageId, tenant };
    };
    /** A step of `message`, through `db` (a transaction or not). */
    const step = (
      db: Knex | Knex.Transaction,
      message: { id: string; tenant: string },
      event: string,
    ) =>
      db('message_event').insert({
        tenant_id: message.tenant,
        message_id: message.id,
        recipient: 'ufficio@regione.pec.test',
        at: new Date(),
        event,
      });
    const events = (page: { events: { event: string; sentMessageId: string | null }[] }) =>
      page.events.map((e) => `${e.sentMessageId} ${e.event}`);

    it('gives every step of the messages sent in the order stored, a page at a time', async () => {
      const a = await sent();
      const b = await sent();
      await step(knex, a, 'submitted');
      await step(knex, b, 'submitted');
      await step(knex, a, 'accettazione');
      await step(knex, b, 'accettazione');
      await step(knex, a, 'avvenuta-consegna');
      const first = await feed.read(TENANT, { limit: 3 });
      const rest = await feed.read(TENANT, { after: first.cursor!, limit: 3 });
      expect([...events(first), ...events(rest)]).toEqual([
        `${a.messageId} submitted`,
        `${b.messageId} submitted`,
        `${a.messageId} accettazione`,
        `${b.messageId} accettazione`,
        `${a.messageId} avvenuta-consegna`,
      ]);
      expect(first.events[0]).toMatchObject({
        messageId: a.id,
        recipient: 'ufficio@regione.pec.test',
        receiptMessageId: null,
      });
      expect(await feed.read(TENANT, { after: rest.cursor! })).toEqual({
        events: [],
        cursor: rest.cursor,
      });
      await step(knex, b, 'errore-consegna');
      expect(events(await feed.read(TENANT, { after: rest.cursor! }))).toEqual([
        `${b.messageId} errore-consegna`,
      ]);
    });

    it("gives nothing of another tenant's messages, and refuses a cursor it did not give", async () => {
      await ensureTenant(runtime().orm, 'elsewhere');
      const head = (await feed.read(TENANT, { limit: 500 })).cursor;
      await step(knex, await sent('elsewhere'), 'submitted');
      expect((await feed.read(TENANT, { after: head ?? undefined })).events).toEqual([]);
      expect(events(await feed.read('elsewhere'))).toHaveLength(1);
      await expect(feed.read(TENANT, { after: 'not-a-cursor' })).rejects.toMatchObject({
        code: 'invalid-cursor',
        details: { field: 'after' },
      });
    });

    // Only PostgreSQL commits two writers at once.
    if (database.kind === 'postgresql')
      it('does not pass a step whose transaction is still open when a later one commits first', async () => {
        const message = await sent();
        const head = (await feed.read(TENANT, { limit: 500 })).cursor!;
        const open = await knex.transaction();
        try {
          await step(open, message, 'accettazione');
          await step(knex, message, 'avvenuta-consegna');
          expect(await feed.read(TENANT, { after: head })).toEqual({ events: [], cursor: head });
          await open.commit();
          expect(events(await feed.read(TENANT, { after: head }))).toEqual([
            `${message.messageId} accettazione`,
            `${message.messageId} avvenuta-consegna`,
          ]);
        } finally {
          if (!open.isCompleted()) await open.rollback();
        }
      });
  });
}
