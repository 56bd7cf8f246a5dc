/**
 * The connection drops while the last batch of a pass commits (a provider restart, a network
 * failure: the commit is where a pass spends its time). The batch is committed; the session must
 * notice the lost connection and reconnect, as it does when the connection drops during IDLE,
 * instead of waiting on a dead connection until the next poll with health 'ok'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession } from '../../src/intake/index.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';
import { countMessages } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';
import { CONTENT_FETCH, startFaultRelay } from './support/fault-relay.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))('a connection lost while the last batch commits', () => {
  let h: IntakeHarness;
  // A poll slower than the test: only IDLE and a reconnect can bring new mail in.
  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000 });
  });
  afterAll(async () => h?.close());

  it('is noticed: the session reconnects and takes the next message without waiting for the poll', async () => {
    const address = 'riavvio@comune.pec.test';
    const id = await h.addMailbox(address);
    await h.append(
      address,
      [0, 1].map((n) => fixtures.envelope(n, [address]).raw),
    );
    // The first connection is cut as soon as the server has answered the content FETCH: the
    // intake has the bytes and is storing and committing them.
    let fetchTag: string | null = null;
    let cut = false;
    const relay = await startFaultRelay(h.dovecot, {
      onClient(text, conn) {
        const m = CONTENT_FETCH.exec(text);
        if (m && conn.id === 1) fetchTag = m[1]!;
      },
      onServer(text, conn) {
        if (!cut && fetchTag && conn.id === 1 && text.includes(`\r\n${fetchTag} OK`)) {
          cut = true;
          setImmediate(() => conn.cut());
        }
        return text;
      },
    });
    await h.mailboxes.update(TENANT, id, {
      imap: { host: relay.host, port: relay.port, tls: false, allowPlaintext: true },
    });
    const stop = new AbortController();
    const session = runMailboxSession(h.ctx, TENANT, id, { signal: stop.signal });
    try {
      await eventually(
        'the first two messages',
        async () => (await countMessages(h.runtime.orm, { mailbox_id: id })) === 2,
      );
      expect(cut).toBe(true);
      await h.append(address, [fixtures.envelope(2, [address]).raw]);
      await eventually(
        'the message delivered after the connection was lost',
        async () => (await countMessages(h.runtime.orm, { mailbox_id: id })) === 3,
      ).catch(async (error: Error) => {
        const health = await h.mailboxes.health(TENANT, id);
        throw new Error(
          `${error.message} (connections opened: ${relay.connections}; health: ${health.status})`,
        );
      });
    } finally {
      stop.abort();
      await session;
      await relay.close();
    }
    expect(relay.connections).toBeGreaterThanOrEqual(2);
  });
});
