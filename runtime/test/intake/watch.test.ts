/**
 * A watching session: new mail announced by IDLE is ingested without waiting for the poll;
 * Dovecot restarted under it → reconnect with backoff and catch up; a refused login becomes
 * mailbox health `auth-failed`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession, type SessionSummary } from '../../src/intake/index.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';
import { countMessages } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))('watching a mailbox', () => {
  let h: IntakeHarness;
  const address = 'protocollo@comune.pec.test';
  const batch = (from: number, count: number) =>
    Array.from({ length: count }, (_, n) => fixtures.envelope(from + n, [address]).raw);

  // A poll slower than the test: only IDLE and the reconnect can bring the mail in.
  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000 });
  });
  afterAll(async () => h?.close());

  it('ingests on IDLE, reconnects after a Dovecot restart and catches up', async () => {
    const id = await h.addMailbox(address);
    await h.append(address, batch(0, 10));
    const stop = new AbortController();
    const session: Promise<SessionSummary> = runMailboxSession(h.ctx, TENANT, id, {
      signal: stop.signal,
    });
    try {
      await eventually(
        'the first 10 messages',
        async () => (await countMessages(h.runtime.orm)) === 10,
      );
      await h.append(address, batch(10, 5));
      await eventually(
        '5 messages announced by IDLE',
        async () => (await countMessages(h.runtime.orm)) === 15,
      );

      await h.dovecot.stop();
      await h.append(address, batch(15, 10));
      await h.dovecot.start();
      await eventually(
        'the 10 delivered while the server was down',
        async () => (await countMessages(h.runtime.orm)) === 25,
      );
    } finally {
      stop.abort();
    }
    const summary = await session;
    expect(summary.stoppedBy).toBe('signal');
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    expect(summary.inserted).toBe(25);
    const health = await h.mailboxes.health(TENANT, id);
    expect(health.status).toBe('ok');
    expect(health.consecutiveFailures).toBe(0);
    expect(health.folders).toEqual([expect.objectContaining({ folder: 'INBOX', lastUid: 25 })]);
  });

  it('stops on a refused login and shows it as mailbox health', async () => {
    const id = await h.addMailbox('urp@comune.pec.test');
    await h.mailboxes.update(TENANT, id, { password: 'scaduta' });
    const summary = await runMailboxSession(h.ctx, TENANT, id, {});
    expect(summary.stoppedBy).toBe('auth-failed');
    const health = await h.mailboxes.health(TENANT, id);
    expect(health.status).toBe('auth-failed');
    expect(health.consecutiveFailures).toBe(1);
    expect(health.lastError).toMatch(/auth/i);
  });
});
