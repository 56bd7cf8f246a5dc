/**
 * Three mailboxes, 500 certified messages, some delivered to two of our mailboxes: exactly one
 * Message per provider id and one intake entry per certified message, on SQLite and
 * PostgreSQL; then UIDVALIDITY reset and a poison message.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParsePool } from '@pectrack/connector-pec';
import type { ImapFlow, MailboxObject } from 'imapflow';
import { runMailboxSession, type IntakeContext } from '../../src/intake/index.js';
import { pendingWindows } from '../../src/intake/listing.js';
import { messageQueries } from '../../src/intake/messages.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import {
  checkpointOf,
  countIntakeEntries,
  countMessages,
  distinctProviderIds,
} from './support/counts.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const BOXES = ['protocollo@comune.pec.test', 'urp@comune.pec.test', 'tributi@comune.pec.test'];

for (const database of await testDatabases()) {
  describe.skipIf(Boolean(dovecotMissing) || !database.available)(
    `intake on ${database.kind}`,
    () => {
      let h: IntakeHarness;
      const ids: string[] = [];
      const providerIds = new Set<string>();

      beforeAll(async () => {
        h = await startHarness(database, fixtures, { batchMessages: 64 });
        for (const address of BOXES)
          ids.push(await h.addMailbox(address, { flagKeyword: '$PecTrack' }));
        const perBox = new Map<string, Buffer[]>(BOXES.map((b) => [b, []]));
        for (let n = 0; n < 500; n++) {
          // Every tenth message is addressed to two of our mailboxes: the same envelope lands in both.
          const to = n % 10 === 0 ? [BOXES[n % 3]!, BOXES[(n + 1) % 3]!] : [BOXES[n % 3]!];
          const { raw, providerId } = fixtures.envelope(n, to);
          providerIds.add(providerId);
          for (const address of to) perBox.get(address)!.push(raw);
        }
        await Promise.all(BOXES.map((address) => h.append(address, perBox.get(address)!)));
      });
      afterAll(async () => h?.close());

      it('stores one Message per provider id and one intake entry per certified message', async () => {
        const summaries = await Promise.all(
          ids.map((id) => runMailboxSession(h.ctx, TENANT, id, { once: true })),
        );
        expect(summaries.reduce((sum, s) => sum + s.fetched, 0)).toBe(550);
        expect(summaries.reduce((sum, s) => sum + s.duplicates, 0)).toBe(50);
        expect(await countMessages(h.runtime.orm)).toBe(500);
        expect(await distinctProviderIds(h.runtime.orm)).toBe(providerIds.size);
        expect(providerIds.size).toBe(500);
        expect(
          await countMessages(h.runtime.orm, {
            kind: 'posta-certificata',
            signature_status: 'valid',
          }),
        ).toBe(500);
        expect(await countIntakeEntries(h.runtime.orm)).toBe(500);
      });

      it('flags processed mail with the keyword after commit, deleting nothing', async () => {
        const client = await h.imap(BOXES[0]!);
        try {
          const box = await client.mailboxOpen('INBOX');
          const flagged = await client.search({ keyword: '$PecTrack' }, { uid: true });
          expect(Array.isArray(flagged) ? flagged.length : 0).toBe(box.exists);
          expect(box.exists).toBeGreaterThan(150);
        } finally {
          await client.logout();
        }
      });

      it('a second pass finds nothing new', async () => {
        const summary = await runMailboxSession(h.ctx, TENANT, ids[1]!, { once: true });
        expect(summary.fetched).toBe(0);
        expect(await countMessages(h.runtime.orm)).toBe(500);
      });

      it("lists one sender's messages whatever the letter case of the address", async () => {
        const messages = messageQueries(h.ctx);
        const listed = await messages.list(TENANT, { sender: 'Cittadino42@Mittente.PEC.test' });
        expect(listed.map((m) => [m.sender, m.subject])).toEqual([
          ['cittadino42@mittente.pec.test', 'Istanza numero 42'],
        ]);
        expect(await messages.list(TENANT, { sender: 'cittadino4@mittente' })).toEqual([]);
      });

      it('re-reads a folder whose UIDVALIDITY changed without storing anything twice', async () => {
        const before = await checkpointOf(h.runtime.orm, ids[0]!);
        const uidValidity = await h.dovecot.resetUidValidity(BOXES[0]!);
        const summary = await runMailboxSession(h.ctx, TENANT, ids[0]!, { once: true });
        const after = await checkpointOf(h.runtime.orm, ids[0]!);
        expect(String(after.uid_validity)).toBe(String(uidValidity));
        expect(String(after.uid_validity)).not.toBe(String(before.uid_validity));
        expect(summary.fetched).toBe(Number(before.last_uid));
        expect(summary.inserted).toBe(0);
        expect(await countMessages(h.runtime.orm)).toBe(500);
        expect(await countIntakeEntries(h.runtime.orm)).toBe(500);
      });

      it('stores a poison message as unparseable and goes on with the other 99', async () => {
        const address = 'poison@comune.pec.test';
        const id = await h.addMailbox(address);
        const messages = Array.from(
          { length: 100 },
          (_, n) => fixtures.envelope(1000 + n, [address]).raw,
        );
        messages[42] = poison();
        await h.append(address, messages);
        const summary = await runMailboxSession(h.ctx, TENANT, id, { once: true });
        expect(summary.inserted).toBe(100);
        expect(await countMessages(h.runtime.orm, { mailbox_id: id, kind: 'unparseable' })).toBe(1);
        expect(
          await countMessages(h.runtime.orm, { mailbox_id: id, kind: 'posta-certificata' }),
        ).toBe(99);
        expect(Number((await checkpointOf(h.runtime.orm, id)).last_uid)).toBe(100);
      });

      it('loses nothing when the parse worker dies mid-sync: what it held is read back from the blob store', async () => {
        const address = 'crash-parser@comune.pec.test';
        const id = await h.addMailbox(address);
        await h.append(
          address,
          Array.from({ length: 100 }, (_, n) => fixtures.envelope(3000 + n, [address]).raw),
        );
        const pool = new ParsePool({
          size: 1,
          inner: 'outline',
          trustAnchors: [fixtures.ca.certificatePem],
        });
        let asked = 0;
        let rereads = 0;
        const ctx: IntakeContext = {
          ...h.ctx,
          parse: (raw, request) => {
            // The 40th message finds its worker gone, along with whatever it still held.
            if (++asked === 40) void workersOf(pool)[0]!.worker.terminate();
            const reread = request?.reread;
            return pool.parse(raw, {
              ...request,
              ...(reread && { reread: () => (rereads++, reread()) }),
            });
          },
        };
        try {
          const summary = await runMailboxSession(ctx, TENANT, id, { once: true });
          expect(summary.inserted).toBe(100);
        } finally {
          await pool.close();
        }
        expect(rereads).toBeGreaterThan(0);
        expect(
          await countMessages(h.runtime.orm, {
            mailbox_id: id,
            kind: 'posta-certificata',
            signature_status: 'valid',
          }),
        ).toBe(100);
      });

      it('lists a folder a window of UIDs at a time, striding over expunged UIDs, and ingests it all once', async () => {
        const address = 'finestre@comune.pec.test';
        const id = await h.addMailbox(address);
        const envelopes = (from: number, count: number) =>
          Array.from(
            { length: count },
            (_, n) => fixtures.envelope(4000 + from + n, [address]).raw,
          );
        await h.append(address, envelopes(0, 60));
        const client = await h.imap(address);
        try {
          await client.mailboxOpen('INBOX');
          await client.messageDelete('11:40', { uid: true });
          await h.append(address, envelopes(60, 20));
          // UIDs 1-10 and 41-80 are left; windows of 8 UIDs, doubled after each empty one. The
          // folder was selected before the last 20 arrived: the server has announced them since
          // (NOOP), but the UIDNEXT of the SELECT (61) is stale; the open-ended last window
          // reaches them all the same.
          await client.noop();
          expect(await windowsOf(client, 8)).toEqual({
            uidNext: 61,
            sizes: [8, 2, 0, 0, 40],
            uids: [...range(1, 10), ...range(41, 80)],
          });
          await client.mailboxClose();
          expect(await windowsOf(client, 8)).toEqual({
            uidNext: 81,
            sizes: [8, 2, 0, 0, 32, 8],
            uids: [...range(1, 10), ...range(41, 80)],
          });
        } finally {
          await client.logout();
        }
        const ctx: IntakeContext = { ...h.ctx, limits: { ...h.ctx.limits, listWindowUids: 8 } };
        const summary = await runMailboxSession(ctx, TENANT, id, { once: true });
        expect(summary.inserted).toBe(50);
        expect(Number((await checkpointOf(h.runtime.orm, id)).last_uid)).toBe(80);
        expect(
          await countMessages(h.runtime.orm, {
            mailbox_id: id,
            kind: 'posta-certificata',
            signature_status: 'valid',
          }),
        ).toBe(50);
      });

      it('streams a large message into the blob store and parses it whole', async () => {
        const address = 'grandi@comune.pec.test';
        const id = await h.addMailbox(address);
        const { raw, providerId } = fixtures.envelope(
          2000,
          [address],
          randomBytes(6 * 1024 * 1024),
        );
        await h.append(address, [raw]);
        const summary = await runMailboxSession(h.ctx, TENANT, id, { once: true });
        expect(summary.inserted).toBe(1);
        const row = await knexOf(h.runtime.orm)('message').where({ mailbox_id: id }).first();
        expect(row).toMatchObject({
          provider_id: providerId,
          kind: 'posta-certificata',
          signature_status: 'valid',
          sha256: createHash('sha256').update(raw).digest('hex'),
        });
        expect(Number(row.size)).toBe(raw.length);
        expect(await h.ctx.blobs.size(row.sha256)).toBe(raw.length);
      });
    },
  );
}

/** The windows pendingWindows lists in INBOX from the start, with the UIDNEXT it was given. */
async function windowsOf(client: ImapFlow, span: number) {
  const lock = await client.getMailboxLock('INBOX');
  try {
    const uidNext = (client.mailbox as MailboxObject).uidNext;
    const windows: number[][] = [];
    for await (const pending of pendingWindows(client, 0, uidNext, span))
      windows.push(pending.map((m) => m.uid));
    return { uidNext, sizes: windows.map((w) => w.length), uids: windows.flat() };
  } finally {
    lock.release();
  }
}

const range = (first: number, last: number) =>
  Array.from({ length: last - first + 1 }, (_, n) => first + n);

const workersOf = (pool: ParsePool) =>
  (pool as unknown as { workers: Array<{ worker: { terminate(): Promise<number> } }> }).workers;

/** A signed-looking multipart whose boundary never appears and whose headers are binary junk. */
function poison(): Buffer {
  return Buffer.concat([
    Buffer.from(
      'Content-Type: multipart/signed; boundary="nowhere"\r\nX-Trasporto: posta-certificata\r\nSubject: \xff\xfe\x00\r\n\r\n',
      'latin1',
    ),
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
  ]);
}
