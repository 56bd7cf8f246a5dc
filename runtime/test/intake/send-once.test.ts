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

        expect(first.replayed).toBe(false);
        expect(again).toEqual({ ...first, replayed: true });
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
        expect(once).toEqual({ ...retried, replayed: true });
        expect((await submittedIds()).slice(before)).toEqual([recorded.message_id]);
        expect(await rowsWithKey('task:c:1')).toHaveLength(1);
        expect(await events(recorded.id)).toEqual(['submission-failed', 'submitted']);
      });

      it('repeats at the same moment submit once: the others are told to ask again, then get the message', async () => {
        const port = await closedPort();
        const providerDown = outgoingServices(h.ctx, (settings) =>
          createPecTransport({ ...settings, port }),
        );
        await expect(
          providerDown.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:e:1' }),
        ).rejects.toMatchObject({ code: 'pec-submission-failed' });
        const [recorded] = await rowsWithKey('task:e:1');
        const before = (await submittedIds()).length;

        // Four retries of a refused submission at once: each would reopen it and submit it.
        const outcomes = await Promise.allSettled(
          [1, 2, 3, 4].map(() =>
            outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:e:1' }),
          ),
        );

        const sent = outcomes.filter((o) => o.status === 'fulfilled');
        const waiting = outcomes.filter((o) => o.status === 'rejected');
        expect(sent.map((o) => o.value)).toEqual([
          expect.objectContaining({ id: recorded.id, replayed: false }),
        ]);
        for (const o of waiting)
          expect(o.reason).toMatchObject({
            code: 'send-in-progress',
            status: 409,
            retryAfterMs: expect.any(Number),
          });
        expect((await submittedIds()).slice(before)).toEqual([recorded.message_id]);
        expect(await events(recorded.id)).toEqual(['submission-failed', 'submitted']);
        await expect(
          outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:e:1' }),
        ).resolves.toMatchObject({ id: recorded.id, replayed: true });
      });

      it('first sends at the same moment record one message: the others are told to ask again', async () => {
        const before = (await submittedIds()).length;
        const outcomes = await Promise.allSettled(
          [1, 2, 3].map(() =>
            outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:f:1' }),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        for (const o of outcomes.filter((o) => o.status === 'rejected'))
          expect(o.reason).toMatchObject({ code: 'send-in-progress', status: 409 });
        expect(await rowsWithKey('task:f:1')).toHaveLength(1);
        expect((await submittedIds()).length - before).toBe(1);
      });

      it('a repeat while the first call is still submitting waits; once its lease is over it submits', async () => {
        let release: () => void = () => undefined;
        const stalled = outgoingServices(h.ctx, (settings) => {
          const transport = createPecTransport(settings);
          return {
            ...transport,
            // The call that dies after recording: it never gets an answer, nor records one.
            submit: () => new Promise((resolve) => (release = () => resolve(undefined as never))),
          };
        });
        const dying = stalled.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:g:1' });
        await expect.poll(() => rowsWithKey('task:g:1')).toHaveLength(1);
        const [recorded] = await rowsWithKey('task:g:1');
        const before = (await submittedIds()).length;

        await expect(
          outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:g:1' }),
        ).rejects.toMatchObject({
          code: 'send-in-progress',
          details: { messageId: recorded.message_id, retryAfterMs: expect.any(Number) },
        });
        expect(await submittedIds()).toHaveLength(before);

        // Past the lease the holder is taken for dead: the repeat submits the recorded message.
        const later = outgoingServices({
          ...h.ctx,
          now: () => new Date(Date.now() + h.ctx.limits.submissionLeaseMs + 1_000),
        });
        await expect(
          later.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:g:1' }),
        ).resolves.toMatchObject({
          id: recorded.id,
          messageId: recorded.message_id,
          replayed: false,
        });
        expect((await submittedIds()).slice(before)).toEqual([recorded.message_id]);
        release();
        await dying.catch(() => undefined);
      });

      it('a submission whose caller died after the provider took it is not sent again past its lease: the receipt in the mailbox says so', async () => {
        // The call submits, the provider takes the message and sends its receipts, and the call
        // dies before recording the answer (a killed node). Past the lease a retry used to submit
        // the same bytes again: a second certified message. The receipts are in the sender's
        // mailbox, not yet read by any sync: the retry must find them there.
        let release: () => void = () => undefined;
        const dying = outgoingServices(h.ctx, (settings) => {
          const transport = createPecTransport(settings);
          return {
            ...transport,
            submit: async (composed) => {
              await transport.submit(composed);
              return new Promise((resolve) => (release = () => resolve(undefined as never)));
            },
          };
        });
        const before = (await submittedIds()).length;
        const dead = dying.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:k:1' });
        await expect.poll(async () => (await submittedIds()).length).toBe(before + 1);
        const [recorded] = await rowsWithKey('task:k:1');

        const later = outgoingServices({
          ...h.ctx,
          now: () => new Date(Date.now() + h.ctx.limits.submissionLeaseMs + 1_000),
        });
        const again = await later.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:k:1' });
        const history = await knexOf(h.runtime.orm)('message_event')
          .where({ message_id: recorded.id })
          .orderBy('id')
          .select('event', 'data');
        expect({
          again: { id: again.id, replayed: again.replayed, status: again.deliveryStatus },
          submitted: (await submittedIds()).slice(before),
          history: history.map((e: { event: string; data: unknown }) => ({
            event: e.event,
            data: typeof e.data === 'string' ? JSON.parse(e.data) : e.data,
          })),
        }).toEqual({
          again: { id: recorded.id, replayed: true, status: 'submitted' },
          submitted: [recorded.message_id],
          history: [
            {
              event: 'submitted',
              data: {
                response: expect.stringMatching(/receipt \(accettazione, UID \d+ of INBOX\)/),
              },
            },
          ],
        });
        release();
        await dead.catch(() => undefined);
      });

      it('refuses another message under a used key (422, naming it), sending and recording nothing', async () => {
        const first = await outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: 'task:h:1' });
        const before = (await submittedIds()).length;
        const rows = await knexOf(h.runtime.orm)('message').count({ n: '*' });
        for (const other of [
          { ...LETTER, subject: 'Richiesta parere (rettifica)' },
          { ...LETTER, to: ['altro.ufficio@regione.pec.test'] },
          {
            ...LETTER,
            attachments: [{ filename: 'parere.pdf', content: Buffer.from('%PDF-1.4 bozza') }],
          },
        ])
          await expect(
            outgoing.send(TENANT, senderId, other, { idempotencyKey: 'task:h:1' }),
          ).rejects.toMatchObject({
            code: 'idempotency-key-reused',
            status: 422,
            details: { field: 'idempotencyKey', id: first.id, messageId: first.messageId },
          });
        expect(await submittedIds()).toHaveLength(before);
        expect(await knexOf(h.runtime.orm)('message').count({ n: '*' })).toEqual(rows);
        // The addresses' case is not a different request.
        await expect(
          outgoing.send(
            TENANT,
            senderId,
            { ...LETTER, to: [RECIPIENT.toUpperCase()] },
            { idempotencyKey: 'task:h:1' },
          ),
        ).resolves.toMatchObject({ id: first.id, replayed: true });
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
