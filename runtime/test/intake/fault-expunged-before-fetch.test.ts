/**
 * Another client (the webmail of a clerk, a provider's archiving rule) expunges a message after
 * the intake listed the folder and before it fetched the content. The server says so (`* n
 * EXPUNGE`, `OK [EXPUNGEISSUED]`): the message is gone, there is nothing to wait for. The pass
 * stores the rest of the folder and the mailbox stays healthy; a routine event on a shared
 * mailbox is not a failed sync.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession } from '../../src/intake/index.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';
import { startImapRelay } from './support/imap-relay.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))(
  'a message expunged between the listing and the fetch',
  () => {
    let h: IntakeHarness;
    beforeAll(async () => {
      h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000 });
    });
    afterAll(async () => h?.close());

    it('stores the rest of the folder in the same pass and keeps the mailbox healthy', async () => {
      const address = 'condivisa@comune.pec.test';
      const envelopes = [0, 1, 2].map((n) => fixtures.envelope(n, [address]));
      const id = await h.addMailbox(address);
      await h.append(
        address,
        envelopes.map((e) => e.raw),
      );
      const relay = await startImapRelay(h.dovecot, {
        command: /UID FETCH .*BODY\.PEEK\[\]/,
        before: async () => {
          const clerk = await h.imap(address);
          await clerk.mailboxOpen('INBOX');
          await clerk.messageDelete('2', { uid: true });
          await clerk.logout();
        },
      });
      try {
        await h.mailboxes.update(TENANT, id, {
          imap: { host: relay.host, port: relay.port, tls: false, allowPlaintext: true },
        });
        const summary = await runMailboxSession(h.ctx, TENANT, id, { once: true });
        expect(relay.fired).toBe(true);
        expect(summary).toMatchObject({ inserted: 2, reconnects: 0 });
      } finally {
        await relay.close();
      }
      const stored = await knexOf(h.runtime.orm)('message')
        .where({ mailbox_id: id })
        .orderBy('uid')
        .pluck('provider_id');
      expect(stored).toEqual([envelopes[0]!.providerId, envelopes[2]!.providerId]);
      expect(await h.mailboxes.health(TENANT, id)).toMatchObject({
        status: 'ok',
        consecutiveFailures: 0,
        folders: [expect.objectContaining({ folder: 'INBOX', lastUid: 3 })],
      });
    });
  },
);
