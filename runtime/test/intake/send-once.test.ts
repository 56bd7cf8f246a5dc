/**
 * Sending under an idempotency key (what a retried process task does) certifies at most once:
 * a repeat of a submitted send returns the recorded message without touching SMTP, and a
 * message recorded but never taken by the provider goes out on the retry with its Message-ID.
 * Real Dovecot, the testkit provider's SMTP front, SQLite and PostgreSQL (the new column).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPecTransport } from '@pectrack/connector-pec';
import type { SmtpFront } from '@pectrack/connector-pec/testkit';
import { outgoingServices, type OutgoingServices } from '../../src/intake/outgoing.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { closedPort } from '../support/ports.js';
import { pecFixtures } from './support/fixtures.js';
import { RECIPIENT, startSending, type SendingHarness } from './support/sending.js';
import { dovecotMissing, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const LETTER = { to: [RECIPIENT], subject: 'Richiesta parere', text: 'Si trasmette la pratica.' };

for (const database of await testDatabases()) {
  describe.skipIf(Boolean(dovecotMissing) || !database.available)(
    `sending once per idempotency key (${database.kind})`,
    () => {
      let h: IntakeHarness;
      let front: SmtpFront;
      let outgoing: OutgoingServices;
      let senderId: string;
      let sending: SendingHarness | undefined;

      beforeAll(async () => {
        sending = await startSending(database, fixtures);
        ({ h, front, outgoing, senderId } = sending);
      });
      afterAll(() => sending?.close());

      const submittedIds = async () => {
        await front.settled();
        return front.processed.map((p) => p.submission.clientMessageId);
      };
      const rowsWithKey = (key: string) =>
        knexOf(h.runtime.orm)('message').where({ idempotency_key: key }).select('id', 'message_id');
      const events = async (id: string) =>
        (
          await knexOf(h.runtime.orm)('message_event')
            .where({ message_id: id })
            .orderBy('id')
            .select('event')
        ).map((e: { event: string }) => e.event);

      it('the same key twice submits once and returns the same outgoing message', async () => {
        const before = (await submittedIds()).length;
        const first = await outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:a:1' });
        const again = await outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:a:1' });

        expect(again).toEqual(first);
        const submitted = await submittedIds();
        expect(submitted.slice(before)).toEqual([first.messageId]);
        expect(await rowsWithKey('task:a:1')).toEqual([
          { id: first.id, message_id: first.messageId },
        ]);
        expect(await events(first.id)).toEqual(['submitted']);
      });

      it('different keys are different messages', async () => {
        const one = await outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:b:1' });
        const two = await outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:b:2' });
        expect(two.id).not.toBe(one.id);
        expect((await submittedIds()).slice(-2)).toEqual([one.messageId, two.messageId]);
      });

      it('a message recorded but never submitted goes out on the retry with its Message-ID', async () => {
        const port = await closedPort();
        const providerDown = outgoingServices(h.ctx, (settings) =>
          createPecTransport({ ...settings, port }),
        );
        const before = (await submittedIds()).length;
        await expect(
          providerDown.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:c:1' }),
        ).rejects.toMatchObject({
          code: 'pec-submission-failed',
          // Nothing reached the provider: safe to send again (the connector's job retries it).
          details: { transient: true },
        });
        const [recorded] = await rowsWithKey('task:c:1');
        expect(await submittedIds()).toHaveLength(before);

        const retried = await outgoing.send(TENANT, senderId, LETTER, {
          idempotencyKey: 'task:c:1',
        });
        const once = await outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:c:1' });

        expect(retried).toMatchObject({
          id: recorded.id,
          messageId: recorded.message_id,
          deliveryStatus: 'submitted',
          recipients: [{ address: RECIPIENT, status: 'submitted' }],
        });
        expect(once).toEqual(retried);
        expect((await submittedIds()).slice(before)).toEqual([recorded.message_id]);
        expect(await rowsWithKey('task:c:1')).toHaveLength(1);
        expect(await events(recorded.id)).toEqual(['submission-failed', 'submitted']);
      });

      it('a login the provider refused is a final failure, not one to send again', async () => {
        const wrongPassword = outgoingServices(h.ctx, (settings) =>
          createPecTransport({ ...settings, password: 'sbagliata' }),
        );
        await expect(
          wrongPassword.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:d:1' }),
        ).rejects.toMatchObject({
          code: 'pec-submission-failed',
          message: expect.stringMatching(/535/),
          details: { transient: false },
        });
      });

      it('refuses an empty key, naming the field, and records nothing', async () => {
        const rows = await knexOf(h.runtime.orm)('message').count({ n: '*' });
        await expect(
          outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: '' }),
        ).rejects.toMatchObject({
          code: 'invalid-idempotency-key',
          details: { field: 'idempotencyKey' },
        });
        expect(await knexOf(h.runtime.orm)('message').count({ n: '*' })).toEqual(rows);
      });
    },
  );
}
