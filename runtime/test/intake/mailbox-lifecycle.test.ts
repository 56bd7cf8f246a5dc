/**
 * A mailbox's lifecycle as an administrator drives it (update, disable/enable, folders,
 * connection test) against a private Dovecot. Found by review: an unchanged `enabled` reset
 * health and reopened a refused login, a re-enabled mailbox kept its old failures, health listed
 * folders no longer watched; each failed before its fix.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession } from '../../src/intake/index.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { testDatabases } from '../support/databases.js';
import { closedPort } from '../support/ports.js';
import { pecFixtures } from './support/fixtures.js';
import {
  dovecotMissing,
  PASSWORD,
  startHarness,
  TENANT,
  type IntakeHarness,
} from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))('mailbox lifecycle', () => {
  let h: IntakeHarness;
  let next = 0;
  const mail = (address: string, count = 1) =>
    Array.from({ length: count }, () => fixtures.envelope(next++, [address]).raw);

  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000 });
  });
  afterAll(async () => h?.close());

  const once = (id: string) => runMailboxSession(h.ctx, TENANT, id, { once: true });

  it('an update that repeats enabled: true (unchanged) keeps a healthy mailbox ok', async () => {
    // The admin form sends every field, `enabled: true` among them, to rename a mailbox. Nothing
    // about the connection changed: its health must not fall back to "unknown" (an administrator
    // reads that as "never synced"; without a running session it stays so).
    const address = 'rinomina@comune.pec.test';
    const id = await h.addMailbox(address);
    await h.append(address, mail(address));
    await once(id);
    expect((await h.mailboxes.health(TENANT, id)).status).toBe('ok');
    await h.mailboxes.update(TENANT, id, { name: 'Protocollo (rinominata)', enabled: true });
    expect((await h.mailboxes.health(TENANT, id)).status).toBe('ok');
  });

  it('an update that repeats enabled: true does not reopen a refused login', async () => {
    // health.ts: a refused login is not retried until the credentials change, a "sync now" or a
    // connection test that logs in: retrying an expired PEC password gets the account locked.
    // Renaming the mailbox (the form re-sending enabled: true) is none of those.
    const address = 'scaduta@comune.pec.test';
    await h.dovecot.addUser({ user: address, password: PASSWORD });
    const view = await h.mailboxes.create(TENANT, {
      name: address,
      address,
      imap: { host: h.dovecot.host, port: h.dovecot.port, tls: false, allowPlaintext: true },
      username: address,
      password: 'scaduta',
    });
    expect((await once(view.id)).stoppedBy).toBe('auth-failed');
    expect((await h.mailboxes.health(TENANT, view.id)).status).toBe('auth-failed');
    await h.mailboxes.update(TENANT, view.id, { name: 'Tributi', enabled: true });
    const health = await h.mailboxes.health(TENANT, view.id);
    expect(health.status).toBe('auth-failed');
  });

  it('health lists only the folders the mailbox watches', async () => {
    // After "Archivio" is taken off the watched folders, health must not keep showing its
    // checkpoint as if it were still read (an administrator would think it still is).
    const address = 'cartelle@comune.pec.test';
    const id = await h.addMailbox(address, { folders: ['INBOX', 'Archivio'] });
    await h.append(address, mail(address));
    await h.append(address, mail(address), 'Archivio');
    await once(id);
    expect((await h.mailboxes.health(TENANT, id)).folders.map((f) => f.folder)).toEqual([
      'Archivio',
      'INBOX',
    ]);
    await h.mailboxes.update(TENANT, id, { folders: ['INBOX'] });
    await once(id);
    const health = await h.mailboxes.health(TENANT, id);
    expect(health.status).toBe('ok');
    expect(health.folders.map((f) => f.folder)).toEqual(['INBOX']);
  });

  it('re-enabling a mailbox starts its health afresh', async () => {
    // Disabled while its server was down, re-enabled once fixed: health says "unknown" (not yet
    // tried) and must not carry the old error and failure count beside it (the count also sets
    // the reconnect backoff of the next failure).
    const address = 'giu@comune.pec.test';
    const id = await h.addMailbox(address);
    const down = await closedPort();
    await h.mailboxes.update(TENANT, id, {
      imap: { host: '127.0.0.1', port: down, tls: false, allowPlaintext: true },
    });
    await expect(once(id)).rejects.toThrow();
    await expect(once(id)).rejects.toThrow();
    const failing = await h.mailboxes.health(TENANT, id);
    expect(failing).toMatchObject({ status: 'failing', consecutiveFailures: 2 });
    await h.mailboxes.update(TENANT, id, { enabled: false });
    await h.mailboxes.update(TENANT, id, { enabled: true });
    const health = await h.mailboxes.health(TENANT, id);
    expect(health.status).toBe('unknown');
    expect({
      lastError: health.lastError,
      consecutiveFailures: health.consecutiveFailures,
    }).toEqual({ lastError: null, consecutiveFailures: 0 });
  });

  describe('connection test', () => {
    let silent: Server;
    beforeAll(async () => {
      // Accepts the connection and never says a word (no greeting): a wrong port on a host
      // that runs something else, or a stuck front end.
      silent = createServer((socket) => socket.on('error', () => undefined));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => silent?.close());

    it('gives up on a port that never greets within the bound, saying so', async () => {
      const port = (silent.address() as AddressInfo).port;
      const view = await h.mailboxes.create(TENANT, {
        name: 'muta',
        address: 'muta@comune.pec.test',
        imap: { host: '127.0.0.1', port, tls: false, allowPlaintext: true },
        username: 'muta',
        password: PASSWORD,
        enabled: false,
      });
      const hurried = mailboxServices({
        ...h.ctx,
        limits: { ...h.ctx.limits, connectionTestMs: 1_000 },
      });
      const started = Date.now();
      const result = await hurried.testConnection(TENANT, view.id);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(result).toMatchObject({
        ok: false,
        error: `127.0.0.1:${port} did not answer within 1 s`,
      });
    });

    it('names a host that does not exist', async () => {
      const view = await h.mailboxes.create(TENANT, {
        name: 'inesistente',
        address: 'inesistente@comune.pec.test',
        imap: { host: 'imap.does-not-exist.invalid', port: 993, tls: true },
        username: 'x',
        password: PASSWORD,
        enabled: false,
      });
      const result = await h.mailboxes.testConnection(TENANT, view.id);
      expect(result.ok).toBe(false);
      expect(result.error).toMatch(/imap\.does-not-exist\.invalid/);
    });
  });
});
