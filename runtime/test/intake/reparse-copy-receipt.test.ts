/**
 * A copy of a receipt read again twice: one whose provider id another row already holds stays a
 * copy (no entry, no receipt), also when a second reparse (the same command run again after the
 * next upgrade) finds the reading unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { DEFAULT_RECEIPT_TTL_MS } from '../../src/config.js';
import { factsOf } from '../../src/intake/facts.js';
import { recordBatch } from '../../src/intake/record.js';
import { reparseServices } from '../../src/intake/reparse.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { parserFailed, rowBySha } from './support/recording.js';
import { RECIPIENT, SENDER, startSending, type SendingHarness } from './support/sending.js';
import { dovecotMissing, PASSWORD, TENANT } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))('a copy of a receipt read again', () => {
  let sending: SendingHarness;
  beforeAll(async () => {
    sending = await startSending(sqlite, fixtures);
  });
  afterAll(() => sending?.close());
  let nextUid = 1;

  const deliveryReceiptOf = async (subject: string) => {
    const { h, outgoing, senderId } = sending;
    const sent = await outgoing.send(TENANT, senderId, {
      to: [RECIPIENT],
      subject,
      text: 'Testo.',
    });
    const client = new ImapFlow({
      host: h.dovecot.host,
      port: h.dovecot.port,
      secure: false,
      auth: { user: SENDER, pass: PASSWORD },
      logger: false,
    });
    await client.connect();
    let delivery: Buffer | undefined;
    try {
      for (let attempt = 0; !delivery && attempt < 300; attempt++) {
        const lock = await client.getMailboxLock('INBOX');
        try {
          for await (const m of client.fetch('1:*', { source: true })) {
            if (
              m.source!.includes(sent.messageId) &&
              m.source!.includes('X-Ricevuta: avvenuta-consegna')
            )
              delivery = m.source!;
          }
        } catch {
          // empty mailbox
        } finally {
          lock.release();
        }
        if (!delivery) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await client.logout();
    }
    expect(delivery).toBeDefined();
    return { sent, delivery: delivery! };
  };

  const record = async (raw: Buffer, read: typeof parserFailed) => {
    const { h, senderId } = sending;
    const stored = await h.ctx.blobs.put(raw);
    const uid = nextUid++;
    await recordBatch(
      h.runtime.orm,
      TENANT,
      { mailboxId: senderId, folder: 'INBOX', uidValidity: '1', lastUid: uid },
      [{ uid, ...stored, ...(await read(stored.sha256)) }],
      new Date(),
      { receiptTimeToLiveMs: DEFAULT_RECEIPT_TTL_MS },
    );
    return rowBySha(h.runtime, stored.sha256, senderId);
  };

  it('does not apply the receipt from the copy when the copy is read again a second time', async () => {
    const { h } = sending;
    const { sent, delivery } = await deliveryReceiptOf('Richiesta di accesso agli atti');
    // The receipt, read and applied at intake.
    const original = await record(delivery, async (sha256) => {
      const envelope = await h.ctx.parse(delivery);
      return { facts: factsOf(envelope, sha256), event: envelope.event as never };
    });
    expect(original.kind).toBe('avvenuta-consegna');
    // The same receipt again (relayed: other bytes), which the parse worker died on.
    const relayed = Buffer.concat([Buffer.from('X-Relayed-By: gateway\r\n'), delivery]);
    const copy = await record(relayed, parserFailed);
    const steps = () =>
      knexOf(h.runtime.orm)('message_event')
        .where({ message_id: sent.id })
        .orderBy('id')
        .select('event', 'receipt_message_id');
    const stepsBefore = await steps();
    expect(stepsBefore.filter((s) => s.event === 'avvenuta-consegna')).toHaveLength(1);

    const first = await reparseServices(h.ctx).one(TENANT, copy.id);
    expect(first).toMatchObject({ changed: true, duplicateOf: original.id, receiptApplied: false });
    expect(await steps()).toEqual(stepsBefore);

    // Run again: nothing new to read, so nothing may be done.
    const second = await reparseServices(h.ctx).one(TENANT, copy.id);
    expect(await steps()).toEqual(stepsBefore);
    expect(second).toMatchObject({ changed: false, receiptApplied: false });
  });
});
