/**
 * The processed keyword is set after the commit (ARCHITECTURE §2). When the connection drops
 * between the commit and the STORE, the messages are in PECtrack but not marked on the server,
 * and the next pass starts after them: whoever reads the mailbox with another client takes
 * them for mail PECtrack never saw. A correct intake marks every committed message in the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession } from '../../src/intake/index.js';
import { testDatabases } from '../support/databases.js';
import { countMessages } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';
import { startFaultRelay } from './support/fault-relay.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const KEYWORD = '$PecTrack';

describe.skipIf(Boolean(dovecotMissing))('the processed keyword when the STORE is lost', () => {
  let h: IntakeHarness;
  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000 });
  });
  afterAll(async () => h?.close());

  it('is set on the committed messages by a later pass', async () => {
    const address = 'parola@comune.pec.test';
    const id = await h.addMailbox(address, { flagKeyword: KEYWORD });
    await h.append(
      address,
      [0, 1, 2].map((n) => fixtures.envelope(n, [address]).raw),
    );
    // The connection is cut when the intake sends its first STORE, after the batch committed.
    let cut = false;
    const relay = await startFaultRelay(h.dovecot, {
      onClient(text, conn) {
        if (cut || !/ UID STORE /.test(text)) return;
        cut = true;
        conn.cut();
        return '';
      },
    });
    try {
      await h.mailboxes.update(TENANT, id, {
        imap: { host: relay.host, port: relay.port, tls: false, allowPlaintext: true },
      });
      await runMailboxSession(h.ctx, TENANT, id, { once: true }).catch(() => undefined);
      expect(cut).toBe(true);
      expect(await countMessages(h.runtime.orm, { mailbox_id: id })).toBe(3);
      // The server is reachable again: later passes run on a sound connection.
      await runMailboxSession(h.ctx, TENANT, id, { once: true });
      await runMailboxSession(h.ctx, TENANT, id, { once: true });
    } finally {
      await relay.close();
    }
    const reader = await h.imap(address);
    const flags: Record<number, string[]> = {};
    try {
      await reader.mailboxOpen('INBOX');
      for await (const m of reader.fetch('1:*', { uid: true, flags: true }))
        flags[m.uid] = [...(m.flags ?? [])];
    } finally {
      await reader.logout();
    }
    expect(flags).toEqual({ 1: [KEYWORD], 2: [KEYWORD], 3: [KEYWORD] });
  });
});
