/**
 * A mailbox deleted while its session is in the middle of a long pass: at most the batch in
 * flight commits (the checkpoint's foreign key rolls back any after the delete), and the
 * session ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession } from '../../src/intake/index.js';
import { testDatabases } from '../support/databases.js';
import { eventually, within } from '../support/wait.js';
import { countMessages, checkpointOf } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))('delete during a pass', () => {
  let h: IntakeHarness;
  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000, batchMessages: 1 });
  });
  afterAll(async () => h?.close());

  it('commits nothing for a mailbox once it is deleted, and the session ends', async () => {
    // "Stop watching a mailbox and forget its configuration": after the DELETE answers, no
    // message, checkpoint or intake entry may still be written for it.
    const address = 'grande@comune.pec.test';
    const id = await h.addMailbox(address);
    await h.append(
      address,
      Array.from({ length: 60 }, (_, n) => fixtures.envelope(n, [address]).raw),
    );
    const stop = new AbortController();
    const session = runMailboxSession(h.ctx, TENANT, id, { signal: stop.signal });
    try {
      await eventually(
        'a few messages',
        async () => (await countMessages(h.runtime.orm, { mailbox_id: id })) >= 3,
        20_000,
      );
      await h.mailboxes.remove(TENANT, id);
      const atDelete = await countMessages(h.runtime.orm, { mailbox_id: id });
      const summary = await within('the session to end', session, 20_000);
      expect(summary.stoppedBy).toBe('missing');
      const after = await countMessages(h.runtime.orm, { mailbox_id: id });
      expect(after - atDelete).toBeLessThanOrEqual(1);
      expect(await checkpointOf(h.runtime.orm, id)).toBeUndefined();
    } finally {
      stop.abort();
      await session.catch(() => undefined);
    }
  });
});
