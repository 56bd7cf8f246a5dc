/**
 * A watching session follows its mailbox: a change made anywhere (here straight through the
 * mailbox services, as another node would) takes effect at its next turn; a missing folder
 * does not hold up the others; IDLE watches INBOX; mail announced during a pass is not left for
 * the poll; a refused login is not tried again until something changed, a login the provider
 * could not take for now is; a mailbox moved to another account reads that account whole.
 */
import { chmod, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession, Wakeup, type SessionSummary } from '../../src/intake/index.js';
import { testDatabases } from '../support/databases.js';
import { closedPort } from '../support/ports.js';
import { eventually, within } from '../support/wait.js';
import { countMessages } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { startImapRelay } from './support/imap-relay.js';
import {
  dovecotMissing,
  PASSWORD,
  startHarness,
  TENANT,
  type IntakeHarness,
} from './support/services.js';

const fixtures = pecFixtures();

describe('Wakeup', () => {
  it('remembers a wake nobody waited for and ends the next wait with it', async () => {
    const wakeup = new Wakeup();
    wakeup.wake();
    await within('the remembered wake', wakeup.wait(), 2_000);
  });

  it('leaves the next wake to the next wait when a wait was given up', async () => {
    const wakeup = new Wakeup();
    const givenUp = new AbortController();
    void wakeup.wait(givenUp.signal);
    givenUp.abort();
    wakeup.wake();
    await within('the wake kept for the next wait', wakeup.wait(), 2_000);
  });
});

for (const database of await testDatabases()) {
  describe.skipIf(Boolean(dovecotMissing) || !database.available)(
    `a watching session on ${database.kind}`,
    () => {
      let h: IntakeHarness;
      let next = 0;
      const mail = (address: string, count = 1) =>
        Array.from({ length: count }, () => fixtures.envelope(next++, [address]).raw);
      const inFolder = (id: string, folder: string) =>
        countMessages(h.runtime.orm, { mailbox_id: id, folder });

      // A poll slower than any test: only IDLE, wake-ups and reconnects bring mail in.
      beforeAll(async () => {
        h = await startHarness(database, fixtures, { pollMs: 10 * 60_000 });
      });
      afterAll(async () => h?.close());

      async function watching(
        id: string,
        run: (session: Promise<SessionSummary>) => Promise<void>,
      ) {
        const stop = new AbortController();
        const session = runMailboxSession(h.ctx, TENANT, id, { signal: stop.signal });
        try {
          await run(session);
        } finally {
          stop.abort();
          await session;
        }
      }

      it('syncs a folder added while it runs, then stops when the mailbox is disabled', async () => {
        const address = 'protocollo@comune.pec.test';
        const id = await h.addMailbox(address);
        await h.append(address, mail(address));
        await watching(id, async (session) => {
          await eventually('the first message', async () => (await inFolder(id, 'INBOX')) === 1);
          await h.append(address, mail(address), 'Archivio');
          await h.mailboxes.update(TENANT, id, { folders: ['INBOX', 'Archivio'] });
          // New mail in INBOX ends the wait: the turn that finds the mailbox changed.
          await h.append(address, mail(address));
          await eventually(
            'the message in Archivio',
            async () => (await inFolder(id, 'Archivio')) === 1,
          );

          await h.mailboxes.update(TENANT, id, { enabled: false });
          await h.append(address, mail(address));
          const summary = await within('the session to stop', session);
          expect(summary.stoppedBy).toBe('disabled');
        });
        expect(await inFolder(id, 'INBOX')).toBe(2);
        expect((await h.mailboxes.health(TENANT, id)).status).toBe('disabled');
      });

      it('stops when the mailbox is deleted', async () => {
        const address = 'urp@comune.pec.test';
        const id = await h.addMailbox(address);
        await watching(id, async (session) => {
          await eventually(
            'the first pass',
            async () => (await h.mailboxes.health(TENANT, id)).status === 'ok',
          );
          await h.mailboxes.remove(TENANT, id);
          await h.append(address, mail(address));
          // Not by failing a pass on the vanished row and reconnecting: by reading the mailbox.
          expect(await within('the session to stop', session)).toMatchObject({
            stoppedBy: 'missing',
            reconnects: 0,
          });
        });
        expect(await countMessages(h.runtime.orm, { mailbox_id: id })).toBe(0);
      });

      it('syncs the other folders when a watched folder does not exist, and names it in health', async () => {
        const address = 'tributi@comune.pec.test';
        const id = await h.addMailbox(address, { folders: ['Archivio', 'INBOX'] });
        await h.append(address, mail(address, 2));
        const summary = await runMailboxSession(h.ctx, TENANT, id, { once: true });
        expect(summary).toMatchObject({ stoppedBy: 'once', inserted: 2 });
        expect(await inFolder(id, 'INBOX')).toBe(2);
        const health = await h.mailboxes.health(TENANT, id);
        expect(health).toMatchObject({ status: 'failing', consecutiveFailures: 0 });
        expect(health.lastError).toBe('folder "Archivio" does not exist on the server');
        expect(health.folderProblems).toEqual([
          { folder: 'Archivio', reason: 'folder "Archivio" does not exist on the server' },
        ]);

        await h.append(address, mail(address), 'Archivio');
        await runMailboxSession(h.ctx, TENANT, id, { once: true });
        expect(await inFolder(id, 'Archivio')).toBe(1);
        expect(await h.mailboxes.health(TENANT, id)).toMatchObject({
          status: 'ok',
          lastError: null,
          folderProblems: [],
        });
      });

      it('watches INBOX with IDLE when it is not the last folder listed', async () => {
        const address = 'anagrafe@comune.pec.test';
        const id = await h.addMailbox(address, { folders: ['INBOX', 'Archivio'] });
        await h.append(address, mail(address), 'Archivio');
        await watching(id, async () => {
          await eventually(
            'the message in Archivio',
            async () => (await inFolder(id, 'Archivio')) === 1,
          );
          await h.append(address, mail(address));
          await eventually(
            'the message announced in INBOX',
            async () => (await inFolder(id, 'INBOX')) === 1,
          );
        });
      });

      it('fetches mail announced while a pass runs without waiting for the poll', async () => {
        const address = 'suap@comune.pec.test';
        const id = await h.addMailbox(address);
        await h.append(address, mail(address));
        // The second message lands while the first pass fetches the first one, after that pass
        // listed the folder; appended over IMAP, it is in the server's index at once, and the
        // server announces it with its answer to that FETCH.
        const relay = await startImapRelay(h.dovecot, {
          command: /UID FETCH .*BODY\.PEEK\[\]/,
          before: async () => {
            const other = await h.imap(address);
            await other.append('INBOX', mail(address)[0]!);
            await other.logout();
          },
        });
        try {
          await h.mailboxes.update(TENANT, id, {
            imap: { host: relay.host, port: relay.port, tls: false, allowPlaintext: true },
          });
          await watching(id, async () => {
            await eventually('both messages', async () => (await inFolder(id, 'INBOX')) === 2);
          });
          expect(relay.fired).toBe(true);
        } finally {
          await relay.close();
        }
      });

      it('shows a server that is down in health, in the words of the connection test', async () => {
        const id = await h.addMailbox('servizi.sociali@comune.pec.test');
        const port = await closedPort();
        await h.mailboxes.update(TENANT, id, {
          imap: { host: '127.0.0.1', port, tls: false, allowPlaintext: true },
        });
        await expect(runMailboxSession(h.ctx, TENANT, id, { once: true })).rejects.toThrow();
        const health = await h.mailboxes.health(TENANT, id);
        expect(health).toMatchObject({ status: 'failing', consecutiveFailures: 1 });
        expect(health.lastError).toMatch(
          new RegExp(`^nothing accepts connections at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED: `),
        );
        const tested = await h.mailboxes.testConnection(TENANT, id);
        expect(tested.error).toBe(health.lastError);
      });

      it('does not log in again after a refused login until the password changes', async () => {
        const address = 'ragioneria@comune.pec.test';
        const id = await h.addMailbox(address);
        await h.mailboxes.update(TENANT, id, { password: 'scaduta' });
        for (let run = 0; run < 3; run++) {
          const summary = await runMailboxSession(h.ctx, TENANT, id, { once: true });
          expect(summary.stoppedBy).toBe('auth-failed');
        }
        const refused = await h.mailboxes.health(TENANT, id);
        expect(refused).toMatchObject({ status: 'auth-failed', consecutiveFailures: 1 });
        expect(refused.lastError).toMatch(
          /^login refused for ragioneria@comune\.pec\.test: update the password; not retried until then/,
        );

        await h.mailboxes.update(TENANT, id, { password: PASSWORD });
        const summary = await runMailboxSession(h.ctx, TENANT, id, { once: true });
        expect(summary.stoppedBy).toBe('once');
        expect((await h.mailboxes.health(TENANT, id)).status).toBe('ok');
      });

      /**
       * Dovecot's authentication process cannot read its passwd-file (or can again): LOGIN gets
       * "NO [UNAVAILABLE] Temporary authentication failure", what a provider whose
       * authentication backend is down answers. Dovecot rereads the file when its mtime moves.
       */
      async function providerLoginsAvailable(available: boolean) {
        const file = join(h.dovecot.dir, 'users');
        await chmod(file, available ? 0o644 : 0o600);
        const seconds = Math.ceil(Date.now() / 1000) + (available ? 4 : 2);
        await utimes(file, seconds, seconds);
        await new Promise((resolve) => setTimeout(resolve, 1_100));
      }

      it('tries a login the provider could not take for now again, not as a refused password', async () => {
        const address = 'elettorale@comune.pec.test';
        const id = await h.addMailbox(address);
        await h.append(address, mail(address));
        expect((await runMailboxSession(h.ctx, TENANT, id, { once: true })).inserted).toBe(1);

        await providerLoginsAvailable(false);
        try {
          await expect(runMailboxSession(h.ctx, TENANT, id, { once: true })).rejects.toThrow();
          const during = await h.mailboxes.health(TENANT, id);
          expect(during).toMatchObject({ status: 'failing', consecutiveFailures: 1 });
          expect(during.lastError).toMatch(/could not take the login .* \(UNAVAILABLE\)/);
          const tested = await h.mailboxes.testConnection(TENANT, id);
          expect(tested).toMatchObject({ ok: false, authenticationFailed: false });
        } finally {
          await providerLoginsAvailable(true);
        }

        await h.append(address, mail(address));
        const after = await runMailboxSession(h.ctx, TENANT, id, { once: true });
        expect(after).toMatchObject({ stoppedBy: 'once', inserted: 1 });
        expect((await h.mailboxes.health(TENANT, id)).status).toBe('ok');
      });

      it("reads a mailbox moved to another account from that account's first message", async () => {
        // Two accounts whose INBOX has the same UIDVALIDITY: Dovecot dates it to the second
        // the folder was created, and other servers give every INBOX the same small number.
        const [first, second] = await accountsWithTheSameUidValidity();
        await h.append(first, mail(first, 3));
        await h.append(second, mail(second, 2));
        const id = await h.addMailbox(first);
        expect((await runMailboxSession(h.ctx, TENANT, id, { once: true })).inserted).toBe(3);

        // The administrator had picked the wrong account and corrects the username.
        await h.mailboxes.update(TENANT, id, { username: second });
        const moved = await runMailboxSession(h.ctx, TENANT, id, { once: true });
        expect(moved).toMatchObject({ inserted: 2, duplicates: 0 });
        expect(await countMessages(h.runtime.orm, { mailbox_id: id })).toBe(5);
        // Read again on the first account (same UIDVALIDITY, lower position): nothing is new.
        await h.mailboxes.update(TENANT, id, { username: first });
        expect(await runMailboxSession(h.ctx, TENANT, id, { once: true })).toMatchObject({
          inserted: 0,
          duplicates: 3,
        });
      });

      async function accountsWithTheSameUidValidity(): Promise<[string, string]> {
        for (let attempt = 0; attempt < 10; attempt++) {
          const pair = [`prima${attempt}@comune.pec.test`, `seconda${attempt}@comune.pec.test`];
          for (const user of pair) await h.dovecot.addUser({ user, password: PASSWORD });
          const clients = await Promise.all(pair.map((user) => h.imap(user)));
          const [a, b] = await Promise.all(
            clients.map((c) => c.status('INBOX', { uidValidity: true })),
          );
          await Promise.all(clients.map((c) => c.logout()));
          if (a!.uidValidity === b!.uidValidity) return pair as [string, string];
        }
        throw new Error('no two INBOXes with the same UIDVALIDITY in 10 attempts');
      }

      it('finds a watched folder by its exact name on the connection test, as the sync does', async () => {
        const address = 'urbanistica@comune.pec.test';
        const id = await h.addMailbox(address, { folders: ['INBOX', 'archivio'] });
        await h.append(address, mail(address), 'Archivio');
        const tested = await h.mailboxes.testConnection(TENANT, id);
        expect(tested.folders).toEqual([
          { folder: 'INBOX', exists: true },
          { folder: 'archivio', exists: false },
        ]);
        await runMailboxSession(h.ctx, TENANT, id, { once: true });
        const health = await h.mailboxes.health(TENANT, id);
        expect(health.folderProblems.map((p) => p.folder)).toEqual(['archivio']);
      });
    },
  );
}
