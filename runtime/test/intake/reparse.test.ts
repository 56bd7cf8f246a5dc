/**
 * Reading a received message again (intake/reparse.ts) on both databases: a message read without
 * the trust anchors, or stored as unparseable because the parser failed on it at intake, takes
 * the new reading; one now read as certified opens its case once, a copy of a message stored
 * elsewhere stays a copy, and a receipt read late moves the message we sent (with Dovecot and the
 * testkit's SMTP front).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { createPecTransport, parsePec } from '@pectrack/connector-pec';
import { createTestCa } from '@pectrack/connector-pec/testkit';
import { factsOf } from '../../src/intake/facts.js';
import { createIntakeContext, type IntakeContext } from '../../src/intake/index.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { outgoingServices } from '../../src/intake/outgoing.js';
import { messageQueries } from '../../src/intake/messages.js';
import { recordBatch } from '../../src/intake/record.js';
import { reparseServices } from '../../src/intake/reparse.js';
import { DEFAULT_RECEIPT_TTL_MS } from '../../src/config.js';
import { MessageSchema } from '../../src/store/entities/message.js';
import { knexOf, tenantFork } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { closedPort } from '../support/ports.js';
import { countIntakeEntries } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import {
  freshUid,
  OFFICE,
  parserFailed,
  readBy,
  rowBySha,
  startSetting,
  store,
  type Setting,
} from './support/recording.js';
import { RECIPIENT, SENDER, startSending, type SendingHarness } from './support/sending.js';
import { dovecotMissing, PASSWORD, TENANT } from './support/services.js';

const fixtures = pecFixtures();

for (const database of await testDatabases()) {
  describe.skipIf(!database.available)(`reading a message again on ${database.kind}`, () => {
    let s: Setting;
    beforeAll(async () => {
      s = await startSetting(database, fixtures);
    });
    afterAll(() => s?.close());
    const reparse = () => reparseServices(s.withAnchors);
    const row = (id: string) =>
      tenantFork(s.runtime.orm, TENANT).findOneOrFail(MessageSchema, { id });

    it('records a signature checked against anchors configured since, keeping the earlier reading', async () => {
      const { raw, providerId } = fixtures.envelope(1, [OFFICE]);
      const id = await store(s, raw, readBy(s.withoutAnchors, raw));
      expect((await row(id)).signatureStatus).toBe('intact-untrusted');
      const entries = await countIntakeEntries(s.runtime.orm);

      const result = await reparse().one(TENANT, id);
      expect(result).toMatchObject({
        changed: true,
        before: { kind: 'posta-certificata', providerId, signatureStatus: 'intact-untrusted' },
        after: { kind: 'posta-certificata', providerId, signatureStatus: 'valid' },
        caseOpened: false,
        receiptApplied: false,
        duplicateOf: null,
      });
      const updated = await row(id);
      expect(updated.signatureStatus).toBe('valid');
      expect(updated.summary.earlierReadings).toEqual([
        expect.objectContaining({ kind: 'posta-certificata', signatureStatus: 'intact-untrusted' }),
      ]);
      // Its case was opened at intake: not a second time.
      expect(await countIntakeEntries(s.runtime.orm)).toBe(entries);

      const again = await reparse().one(TENANT, id);
      expect(again).toMatchObject({ changed: false, caseOpened: false });
      expect((await row(id)).summary.earlierReadings).toHaveLength(1);
    });

    it('opens the case of a certified message the parser failed on at intake, once', async () => {
      const { raw, providerId } = fixtures.envelope(2, [OFFICE]);
      const id = await store(s, raw, parserFailed);
      const stored = await row(id);
      expect(stored).toMatchObject({ kind: 'unparseable', providerId: null });
      expect(stored.dedupeKey).toBe(`sha256:${stored.sha256}`);
      const entries = await countIntakeEntries(s.runtime.orm);

      const result = await reparse().one(TENANT, id);
      expect(result).toMatchObject({
        changed: true,
        before: {
          kind: 'unparseable',
          problems: ['parser failed: parse worker exited with code 1'],
        },
        after: { kind: 'posta-certificata', providerId, signatureStatus: 'valid', problems: [] },
        caseOpened: true,
        duplicateOf: null,
      });
      expect(await row(id)).toMatchObject({
        kind: 'posta-certificata',
        providerId,
        dedupeKey: `id:${providerId}`,
        sender: 'cittadino2@mittente.pec.test',
        subject: 'Istanza numero 2',
      });
      expect(await countIntakeEntries(s.runtime.orm)).toBe(entries + 1);
      const entry = await knexOf(s.runtime.orm)('outbox')
        .where({ kind: 'intake', idempotency_key: `intake:${TENANT}:id:${providerId}` })
        .first();
      expect(entry).toBeDefined();

      // The same PEC reaching the office again (relayed: other bytes) is now known by its id.
      const relayed = Buffer.concat([Buffer.from('X-Relayed-By: gateway\r\n'), raw]);
      const again = await s.withAnchors.blobs.put(relayed);
      const { facts } = await readBy(s.withAnchors, relayed)(again.sha256);
      const uid = freshUid();
      const repeat = await recordBatch(
        s.runtime.orm,
        TENANT,
        { mailboxId: s.mailboxId, folder: 'INBOX', uidValidity: '1', lastUid: uid },
        [{ uid, ...again, facts, event: null }],
        new Date(),
      );
      expect(repeat).toMatchObject({ inserted: 0, duplicates: 1 });
      expect(await reparse().one(TENANT, id)).toMatchObject({ changed: false, caseOpened: false });
      expect(await countIntakeEntries(s.runtime.orm)).toBe(entries + 1);
    });

    it('keeps a copy a copy: the provider id is held by a message stored before', async () => {
      const { raw, providerId } = fixtures.envelope(3, [OFFICE]);
      const original = await store(s, raw, readBy(s.withAnchors, raw));
      // The same PEC, relayed with one more header line: other bytes, other hash.
      const relayed = Buffer.concat([Buffer.from('X-Relayed-By: gateway\r\n'), raw]);
      const copy = await store(s, relayed, parserFailed);
      const entries = await countIntakeEntries(s.runtime.orm);

      const result = await reparse().one(TENANT, copy);
      expect(result).toMatchObject({
        changed: true,
        after: { kind: 'posta-certificata', providerId },
        caseOpened: false,
        duplicateOf: original,
      });
      const kept = await row(copy);
      expect(kept.dedupeKey).toBe(`sha256:${kept.sha256}`);
      expect(await countIntakeEntries(s.runtime.orm)).toBe(entries);
    });

    it('two copies of one PEC read again at the same moment: one opens the case, the other is its copy', async () => {
      const { raw, providerId } = fixtures.envelope(30, [OFFICE]);
      const relayed = Buffer.concat([Buffer.from('X-Relayed-By: gateway\r\n'), raw]);
      const first = await store(s, raw, parserFailed);
      const second = await store(s, relayed, parserFailed);
      const entries = await countIntakeEntries(s.runtime.orm);

      const results = await Promise.all([first, second].map((id) => reparse().one(TENANT, id)));
      const opened = results.filter((r) => r.caseOpened);
      expect(opened).toHaveLength(1);
      const copy = results.find((r) => !r.caseOpened)!;
      expect(copy).toMatchObject({ duplicateOf: opened[0]!.id, after: { providerId } });
      expect(await countIntakeEntries(s.runtime.orm)).toBe(entries + 1);
      expect((await row(opened[0]!.id)).dedupeKey).toBe(`id:${providerId}`);
    });

    it("gives bytes that still do not parse the parser's own reasons, and opens nothing", async () => {
      const id = await store(s, Buffer.from('\x00\x01 not a message at all'), parserFailed);
      const entries = await countIntakeEntries(s.runtime.orm);
      const result = await reparse().one(TENANT, id);
      // The parser's own reasons now, instead of the worker's death.
      expect(result).toMatchObject({
        changed: true,
        before: {
          kind: 'unparseable',
          problems: ['parser failed: parse worker exited with code 1'],
        },
        after: { kind: 'unparseable', providerId: null },
        caseOpened: false,
      });
      expect(result.after.problems.length).toBeGreaterThan(0);
      expect(result.after.problems.join('\n')).not.toContain('parse worker exited');
      expect(await row(id)).toMatchObject({ kind: 'unparseable', providerId: null });
      expect(await countIntakeEntries(s.runtime.orm)).toBe(entries);
    });

    it('leaves a message whose bytes are gone as it was, and reads the others of the page', async () => {
      const { raw: lostRaw } = fixtures.envelope(20, [OFFICE]);
      const lost = await store(s, lostRaw, readBy(s.withAnchors, lostRaw));
      const { raw } = fixtures.envelope(21, [OFFICE]);
      const other = await store(s, raw, parserFailed);
      const before = await row(lost);
      await rm(join(s.blobDir, before.sha256.slice(0, 2), before.sha256));

      await expect(reparse().one(TENANT, lost)).rejects.toMatchObject({
        status: 409,
        code: 'message-bytes-missing',
        message: expect.stringContaining(before.sha256),
      });
      const kept = await row(lost);
      expect(kept).toMatchObject({
        kind: 'posta-certificata',
        providerId: before.providerId,
        signatureStatus: 'valid',
        problems: [],
      });
      expect(kept.summary).toEqual(before.summary);

      const page = await reparse().many(TENANT, { mailboxId: s.mailboxId, limit: 500 });
      expect(page.failed).toEqual([
        { id: lost, reason: expect.stringContaining('not in the blob store') },
      ]);
      expect(page.results.find((r) => r.id === other)).toMatchObject({ caseOpened: true });
      expect(page.examined).toBe(page.results.length + 1);
    });

    it('keeps a message as it was when the parser fails on it, instead of calling it unparseable', async () => {
      const { raw } = fixtures.envelope(22, [OFFICE]);
      const id = await store(s, raw, readBy(s.withAnchors, raw));
      const before = await row(id);
      // A pool that no longer parses: every parse is refused, as when its worker dies.
      const closed = createIntakeContext({
        orm: s.runtime.orm,
        blobs: s.withAnchors.blobs,
        secretKey: randomBytes(32),
        trustAnchors: [fixtures.ca.certificatePem],
        parseWorkers: 1,
      });
      await closed.close();
      await expect(reparseServices(closed).one(TENANT, id)).rejects.toMatchObject({
        status: 409,
        code: 'reparse-failed',
        message: expect.stringContaining('parse pool is closed'),
      });
      const after = await row(id);
      expect(after).toMatchObject({ kind: 'posta-certificata', signatureStatus: 'valid' });
      expect(after.summary).toEqual(before.summary);
      const page = await reparseServices(closed).many(TENANT, { mailboxId: s.mailboxId, limit: 1 });
      expect(page.failed).toHaveLength(1);
      expect(page.results).toEqual([]);
    });

    it('reads a selection again a page at a time, and refuses what is not a received message', async () => {
      const ids = [];
      for (let n = 10; n < 13; n++) {
        const { raw } = fixtures.envelope(n, [OFFICE]);
        ids.push(await store(s, raw, parserFailed));
      }
      // The mailbox's health counts what the parser could not read, for someone to act on.
      const unparseable = async () =>
        (await mailboxServices(s.withAnchors).get(TENANT, s.mailboxId)).health.unparseable;
      const waiting = await unparseable();
      expect(waiting).toBeGreaterThanOrEqual(ids.length);
      const first = await reparse().many(TENANT, { kind: 'unparseable', limit: 2 });
      expect(first.examined).toBe(2);
      expect(first.next).toBe(first.results[1]!.id);
      const seen = first.results.map((r) => r.id);
      let page = first;
      while (page.next) {
        page = await reparse().many(TENANT, { kind: 'unparseable', limit: 2, after: page.next });
        seen.push(...page.results.map((r) => r.id));
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(ids));
      expect(seen).toEqual([...seen].sort());
      for (const id of ids) expect((await row(id)).kind).toBe('posta-certificata');
      // The ones still unparseable were read once, and a new pass finds only them.
      const rest = await reparse().many(TENANT, { kind: 'unparseable' });
      expect(rest.results.every((r) => r.after.kind === 'unparseable')).toBe(true);
      expect(rest.casesOpened).toBe(0);
      expect(await unparseable()).toBe(rest.results.length);
      expect(await unparseable()).toBe(waiting - ids.length);

      await expect(reparse().one(TENANT, 'no-such-message')).rejects.toMatchObject({
        status: 404,
      });
    });
  });
}

const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))('a receipt read again', () => {
  let sending: SendingHarness;
  beforeAll(async () => {
    sending = await startSending(sqlite, fixtures);
  });
  afterAll(() => sending?.close());
  let nextReceiptUid = 1;

  /** Sends a message and reads its two receipts as they reached our mailbox (not synced). */
  const sendForReceipts = async (subject: string) => {
    const { h, outgoing, senderId } = sending;
    const sent = await outgoing.send(TENANT, senderId, {
      to: [RECIPIENT],
      subject,
      text: 'Si prega di integrare la documentazione.',
    });
    const client = new ImapFlow({
      host: h.dovecot.host,
      port: h.dovecot.port,
      secure: false,
      auth: { user: SENDER, pass: PASSWORD },
      logger: false,
    });
    await client.connect();
    let receipts: Buffer[] = [];
    try {
      for (let attempt = 0; receipts.length < 2 && attempt < 50; attempt++) {
        const lock = await client.getMailboxLock('INBOX');
        try {
          const all: Buffer[] = [];
          for await (const m of client.fetch('1:*', { source: true })) all.push(m.source!);
          // Its receipts name it (X-Riferimento-Message-ID, folded by the provider; daticert msgid).
          receipts = all.filter((raw) => raw.includes(sent.messageId));
        } catch {
          // An empty mailbox answers the range with an error on some servers: wait for mail.
        } finally {
          lock.release();
        }
        if (receipts.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await client.logout();
    }
    const acceptance = receipts.find((r) => r.includes('X-Ricevuta: accettazione'));
    const delivery = receipts.find((r) => r.includes('X-Ricevuta: avvenuta-consegna'));
    expect(acceptance).toBeDefined();
    expect(delivery).toBeDefined();
    return { sent, acceptance: acceptance!, delivery: delivery! };
  };

  /** Stores a receipt in the sender's mailbox as intake does, read by `read`. */
  const record = async (raw: Buffer, read: typeof parserFailed) => {
    const { h, senderId } = sending;
    const stored = await h.ctx.blobs.put(raw);
    const uid = nextReceiptUid++;
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

  const statusOf = async (id: string) =>
    (await tenantFork(sending.h.runtime.orm, TENANT).findOneOrFail(MessageSchema, { id }))
      .deliveryStatus;

  it('moves the message we sent once read, and the sent message itself is refused', async () => {
    const { h } = sending;
    const { sent, acceptance, delivery } = await sendForReceipts(
      'Richiesta integrazione documentale',
    );
    const ctx = h.ctx;
    // The acceptance was read and applied at intake, before the anchors were configured.
    const accepted = await record(acceptance, async (sha256) => {
      const envelope = await parsePec(acceptance, { inner: 'outline' });
      return { facts: factsOf(envelope, sha256), event: envelope.event as never };
    });
    expect(accepted.signatureStatus).toBe('intact-untrusted');
    // The delivery receipt killed the parse worker.
    const receipt = await record(delivery, parserFailed);
    const sentRow = () =>
      tenantFork(h.runtime.orm, TENANT).findOneOrFail(MessageSchema, { id: sent.id });
    expect((await sentRow()).deliveryStatus).toBe('accepted');
    const steps = async () =>
      Number(
        (
          await knexOf(h.runtime.orm)('message_event')
            .where({ message_id: sent.id })
            .count({ n: '*' })
            .first()
        )?.n ?? 0,
      );
    const kept = async () =>
      Number((await knexOf(h.runtime.orm)('buffered_message').count({ n: '*' }).first())?.n ?? 0);
    const stepsBefore = await steps();
    const keptBefore = await kept();

    // Read again with the anchors: a new signature status, and not a second acceptance step.
    expect(await reparseServices(ctx).one(TENANT, accepted.id)).toMatchObject({
      changed: true,
      after: { kind: 'accettazione', signatureStatus: 'valid' },
      receiptApplied: false,
    });
    expect(await steps()).toBe(stepsBefore);
    expect(await kept()).toBe(keptBefore);

    const result = await reparseServices(ctx).one(TENANT, receipt.id);
    expect(result).toMatchObject({
      changed: true,
      after: { kind: 'avvenuta-consegna' },
      receiptApplied: true,
      caseOpened: false,
    });
    const detail = await messageQueries(ctx).get(TENANT, sent.id);
    expect(detail.deliveryStatus).toBe('delivered');
    expect(detail.history.filter((e) => e.receiptMessageId === receipt.id)).toEqual([
      expect.objectContaining({ event: 'avvenuta-consegna', recipient: RECIPIENT }),
    ]);
    expect(await kept()).toBe(keptBefore + 1);

    // Read once more: nothing moves twice.
    expect(await reparseServices(ctx).one(TENANT, receipt.id)).toMatchObject({
      changed: false,
      receiptApplied: false,
    });
    await expect(reparseServices(ctx).one(TENANT, sent.id)).rejects.toMatchObject({
      status: 409,
    });
  });

  it('does not let a receipt that is tampered with, or signed by a stranger, certify a delivery', async () => {
    const { h } = sending;
    const { sent, delivery } = await sendForReceipts('Comunicazione di avvio del procedimento');
    const submitted = await statusOf(sent.id);
    expect(submitted).toBe('submitted');
    const readWith = (ctx: IntakeContext) => async (sha256: string, raw: Buffer) => {
      const envelope = await ctx.parse(raw);
      return { facts: factsOf(envelope, sha256), event: envelope.event as never };
    };

    // One word of the signed text changed: the signature no longer verifies.
    const tampered = Buffer.from(
      delivery.toString('latin1').replace('stato consegnato', 'stato consegnata'),
      'latin1',
    );
    expect(tampered.equals(delivery)).toBe(false);
    const forged = await record(tampered, (sha256) => readWith(h.ctx)(sha256, tampered));
    expect(forged).toMatchObject({ kind: 'avvenuta-consegna', signatureStatus: 'invalid' });
    expect(forged.problems.join('\n')).toContain(
      'receipt not applied to the message it refers to: its signature does not verify',
    );
    expect(await statusOf(sent.id)).toBe('submitted');
    // The clerk sees on the sent message that a receipt came, and why it moved nothing.
    const history = (await messageQueries(h.ctx).get(TENANT, sent.id)).history;
    expect(history.filter((step) => step.receiptMessageId === forged.id)).toEqual([
      expect.objectContaining({
        event: 'receipt-not-applied',
        recipient: null,
        data: {
          evidence: 'avvenuta-consegna',
          reason: expect.stringContaining('its signature does not verify'),
        },
      }),
    ]);

    // Another message's real receipt, read while the anchors named another CA: kept, not applied.
    const other = await sendForReceipts('Richiesta di parere');
    const otherAnchors = createIntakeContext({
      orm: h.runtime.orm,
      blobs: h.ctx.blobs,
      secretKey: h.secretKey,
      trustAnchors: [createTestCa().certificatePem],
      parseWorkers: 0,
    });
    try {
      const untrusted = await record(other.delivery, (sha256) =>
        readWith(otherAnchors)(sha256, other.delivery),
      );
      expect(untrusted.signatureStatus).toBe('intact-untrusted');
      expect(untrusted.problems.join('\n')).toContain('its signer is not trusted');
      expect(await statusOf(other.sent.id)).toBe('submitted');

      // Once the anchors are right, reading it again applies it.
      expect(await reparseServices(h.ctx).one(TENANT, untrusted.id)).toMatchObject({
        changed: true,
        after: { signatureStatus: 'valid', problems: [] },
        receiptApplied: true,
      });
      expect(await statusOf(other.sent.id)).toBe('delivered');
      // Both steps are its history: the receipt noted as not applied, then applied.
      const steps = (await messageQueries(h.ctx).get(TENANT, other.sent.id)).history
        .filter((step) => step.receiptMessageId === untrusted.id)
        .map((step) => step.event);
      expect(steps).toEqual(['receipt-not-applied', 'avvenuta-consegna']);
      expect(await statusOf(sent.id)).toBe('submitted');
    } finally {
      await otherAnchors.close();
    }
  });

  it('takes a forged unsigned receipt for no sign that the provider took a message', async () => {
    const { h, outgoing, senderId } = sending;
    const letter = { to: [RECIPIENT], subject: 'Convocazione', text: 'Si convoca la conferenza.' };
    const port = await closedPort();
    const providerDown = outgoingServices(h.ctx, (settings) =>
      createPecTransport({ ...settings, port }),
    );
    await expect(
      providerDown.send(TENANT, senderId, letter, { idempotencyKey: 'task:forged:1' }),
    ).rejects.toMatchObject({ code: 'pec-submission-failed' });
    const [recorded] = await knexOf(h.runtime.orm)('message')
      .where({ idempotency_key: 'task:forged:1' })
      .select('id', 'message_id');

    // Anyone can write a plain e-mail that looks like a delivery receipt for it.
    const forged = Buffer.from(
      [
        'Message-ID: <falsa.consegna@pec.test>',
        'X-Ricevuta: avvenuta-consegna',
        `X-Riferimento-Message-ID: ${recorded.message_id}`,
        'From: posta-certificata@pec.test',
        `To: ${SENDER}`,
        'Subject: CONSEGNA: Convocazione',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Consegnato.',
        '',
      ].join('\r\n'),
    );
    const receipt = await record(forged, async (sha256) => {
      const envelope = await h.ctx.parse(forged);
      return { facts: factsOf(envelope, sha256), event: envelope.event as never };
    });
    // No signed daticert says it is a receipt: it certifies nothing, and refers to nothing.
    expect(receipt).toMatchObject({ kind: 'avvenuta-consegna', signatureStatus: 'unsigned' });
    expect(receipt.problems).toContain(
      'avvenuta-consegna is named by the headers only: no signed daticert says so, so it moves no delivery state',
    );
    // The message it names keeps a trace that one came, and why it moved nothing.
    const noted = await knexOf(h.runtime.orm)('message_event')
      .where({ message_id: recorded.id, receipt_message_id: receipt.id })
      .select('event', 'data');
    expect(noted.map((step) => [step.event, JSON.parse(step.data)])).toEqual([
      [
        'receipt-not-applied',
        {
          evidence: 'avvenuta-consegna',
          reason: 'its headers alone call it avvenuta-consegna: no signed daticert says so',
        },
      ],
    ]);

    // The retry submits it: the forged receipt proved nothing.
    const retried = await outgoing.send(TENANT, senderId, letter, {
      idempotencyKey: 'task:forged:1',
    });
    expect(retried).toMatchObject({ id: recorded.id, replayed: false });
    const steps = await knexOf(h.runtime.orm)('message_event')
      .where({ message_id: recorded.id })
      .orderBy('id')
      .pluck('event');
    expect(steps).toEqual(['submission-failed', 'receipt-not-applied', 'submitted']);
  });

  it('keeps a copy of a receipt a copy when it is read again a second time', async () => {
    const { h } = sending;
    const { sent, delivery } = await sendForReceipts('Richiesta di accesso agli atti');
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
    expect(stepsBefore.filter((step) => step.event === 'avvenuta-consegna')).toHaveLength(1);

    const first = await reparseServices(h.ctx).one(TENANT, copy.id);
    expect(first).toMatchObject({ changed: true, duplicateOf: original.id, receiptApplied: false });
    expect(await steps()).toEqual(stepsBefore);
    // Read again (the command run after the next upgrade): the reading is the same, and the
    // copy is still a copy: no receipt applied from it.
    const second = await reparseServices(h.ctx).one(TENANT, copy.id);
    expect(second).toMatchObject({
      changed: false,
      duplicateOf: original.id,
      receiptApplied: false,
    });
    expect(await steps()).toEqual(stepsBefore);
  });
});
