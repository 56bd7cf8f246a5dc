/**
 * The intake's commit point on both databases: rows written by the fast insert path read back
 * through the ORM as they were given, and a unique-key conflict surfaces as the ORM's exception
 * with nothing of the batch stored and the checkpoint where it was.
 */
import { randomBytes } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { describe, expect, it } from 'vitest';
import type { MessageFacts } from '../../src/intake/facts.js';
import { createIntakeContext } from '../../src/intake/index.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { INTAKE_OUTBOX_KIND, recordBatch, type IngestedMessage } from '../../src/intake/record.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { MailboxCheckpointSchema } from '../../src/store/entities/mailbox.js';
import { MessageSchema } from '../../src/store/entities/message.js';
import { OutboxSchema } from '../../src/store/entities/outbox.js';
import { TENANT_FILTER } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { holdIntakeKey } from './support/outbox.js';

const TENANT = 'default';

function item(n: number): IngestedMessage {
  const providerId = `opec.${n}.${randomBytes(4).toString('hex')}@pec.test`;
  const facts: MessageFacts = {
    kind: 'posta-certificata',
    providerId,
    dedupeKey: `id:${providerId}`,
    messageId: `<m${n}@mittente.pec.test>`,
    originalMessageId: null,
    subject: `Istanza n. ${n} — “accesso”`,
    sender: `cittadino${n}@mittente.pec.test`,
    recipients: ['protocollo@comune.pec.test', `altro${n}@comune.pec.test`],
    signatureStatus: n % 2 === 0 ? 'valid' : 'intact-untrusted',
    summary: { profile: 'pec', attachments: [{ filename: `a${n}.pdf`, size: 1000 + n }] },
    problems: n % 3 === 0 ? [`problem ${n}`] : [],
    certifiedIncoming: n % 2 === 0,
    remDispatch: false,
    receiptDoubt: null,
  };
  return { uid: n, sha256: randomBytes(32).toString('hex'), size: 4000 + n, facts, event: null };
}

async function mailboxOf(runtime: Runtime): Promise<string> {
  const ctx = createIntakeContext({
    orm: runtime.orm,
    blobs: {
      put: async () => ({ sha256: '', size: 0 }),
      open: async () => {
        throw new Error('unused');
      },
      read: async () => {
        throw new Error('unused');
      },
      size: async () => null,
      flush: async () => undefined,
    },
    secretKey: randomBytes(32),
    trustAnchors: [],
    parseWorkers: 0,
  });
  const mailbox = await mailboxServices(ctx).create(TENANT, {
    name: 'Protocollo',
    address: 'protocollo@comune.pec.test',
    imap: { host: '127.0.0.1', port: 143, tls: false, allowPlaintext: true },
    username: 'protocollo',
    password: 'secret',
  });
  await ctx.close();
  return mailbox.id;
}

function em(runtime: Runtime) {
  const fork = runtime.orm.em.fork({ clear: true });
  fork.setFilterParams(TENANT_FILTER, { tenantId: TENANT });
  return fork;
}

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`intake commit on ${database.kind}`, () => {
    it('stores every column of a batch as given, and one intake entry per certified message', async () => {
      const created = await database.create();
      const runtime = await createRuntime(created.config);
      try {
        const mailboxId = await mailboxOf(runtime);
        const items = Array.from({ length: 7 }, (_, n) => item(n + 1));
        const now = new Date(Date.UTC(2026, 10, 27, 9, 30, 15, 250));
        const position = { mailboxId, folder: 'INBOX', uidValidity: '42', lastUid: 7 };
        const outcome = await recordBatch(runtime.orm, TENANT, position, items, now);
        expect(outcome).toMatchObject({ inserted: 7, duplicates: 0 });

        const rows = await em(runtime).find(
          MessageSchema,
          { mailboxId },
          { orderBy: { uid: 'asc' } },
        );
        expect(
          rows.map((row) => ({
            uid: row.uid,
            providerId: row.providerId,
            subject: row.subject,
            recipients: row.recipients,
            signatureStatus: row.signatureStatus,
            summary: row.summary,
            problems: row.problems,
            sha256: row.sha256,
            size: row.size,
            originalMessageId: row.originalMessageId,
            receivedAt: row.receivedAt.toISOString(),
          })),
        ).toEqual(
          items.map((i) => ({
            uid: i.uid,
            providerId: i.facts.providerId,
            subject: i.facts.subject,
            recipients: i.facts.recipients,
            signatureStatus: i.facts.signatureStatus,
            summary: i.facts.summary,
            problems: i.facts.problems,
            sha256: i.sha256,
            size: i.size,
            originalMessageId: null,
            receivedAt: now.toISOString(),
          })),
        );
        const entries = await em(runtime).find(OutboxSchema, { kind: INTAKE_OUTBOX_KIND });
        expect(entries.map((e) => e.payload.providerId).sort()).toEqual(
          items
            .filter((i) => i.facts.certifiedIncoming)
            .map((i) => i.facts.providerId)
            .sort(),
        );
        expect(
          entries.every(
            (e) => e.status === 'pending' && e.nextAttemptAt.getTime() === now.getTime(),
          ),
        ).toBe(true);
        const checkpoint = await em(runtime).findOneOrFail(MailboxCheckpointSchema, { mailboxId });
        expect(checkpoint).toMatchObject({ uidValidity: '42', lastUid: 7 });
      } finally {
        await runtime.stop();
        await created.drop();
      }
    });

    it('reports a unique-key conflict as the ORM does and stores nothing of the batch', async () => {
      const created = await database.create();
      const runtime = await createRuntime(created.config);
      try {
        const mailboxId = await mailboxOf(runtime);
        const first = [item(2)];
        await recordBatch(
          runtime.orm,
          TENANT,
          { mailboxId, folder: 'INBOX', uidValidity: '1', lastUid: 2 },
          first,
          new Date(),
        );
        // An intake entry already holds the key the next message would take.
        const next = [item(4), item(6)];
        await holdIntakeKey(runtime.orm, TENANT, next[1]!.facts.dedupeKey);

        await expect(
          recordBatch(
            runtime.orm,
            TENANT,
            { mailboxId, folder: 'INBOX', uidValidity: '1', lastUid: 6 },
            next,
            new Date(),
          ),
        ).rejects.toBeInstanceOf(UniqueConstraintViolationException);
        expect((await em(runtime).find(MessageSchema, { mailboxId })).map((m) => m.uid)).toEqual([
          2,
        ]);
        const checkpoint = await em(runtime).findOneOrFail(MailboxCheckpointSchema, { mailboxId });
        expect(checkpoint.lastUid).toBe(2);
      } finally {
        await runtime.stop();
        await created.drop();
      }
    });
  });
}
