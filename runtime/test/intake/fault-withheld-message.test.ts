/**
 * A server that lists a message but never returns its content (a damaged copy on its disk, a
 * proxy that drops it): the checkpoint cannot move past it, and the folder used to fail every
 * pass there for good, the rest of the folder's mail never read. Now the folder is held at it,
 * health names it, the other folders go on, and after enough passes (withheld.ts) it is
 * recorded without its content, as a message a person reads with another client, and the
 * folder goes on. A message the server sends once it has settled is stored whole as ever. The
 * relay answers the content FETCH of the withheld UID with nothing for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession } from '../../src/intake/index.js';
import { INTAKE_OUTBOX_KIND } from '../../src/intake/record.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';
import { CONTENT_FETCH, startFaultRelay, uidsOf } from './support/fault-relay.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const WITHHELD_PASSES = 2;

describe.skipIf(Boolean(dovecotMissing))('a message the server lists but never returns', () => {
  let h: IntakeHarness;
  let next = 0;
  beforeAll(async () => {
    // Two messages a FETCH; recorded without content after 2 passes held, however short they were.
    h = await startHarness(sqlite, fixtures, {
      pollMs: 10 * 60_000,
      batchMessages: 2,
      withheldPasses: WITHHELD_PASSES,
      withheldMs: 0,
    });
  });
  afterAll(async () => h?.close());

  /** A mailbox (INBOX and Archivio) behind a relay that, while `faulty.on`, returns nothing for `uid` of INBOX. */
  async function mailboxWithholding(address: string, uid: number, folders = ['INBOX']) {
    const faulty = { on: true };
    let selected = '';
    const relay = await startFaultRelay(h.dovecot, {
      onClient(text) {
        const select = /^\S+ (?:SELECT|EXAMINE) "?([^"\r\n ]+)"?/.exec(text);
        if (select) selected = select[1]!;
        const m = CONTENT_FETCH.exec(text);
        if (!faulty.on || !m || selected !== 'INBOX' || !uidsOf(m[2]!).includes(uid)) return;
        const others = uidsOf(m[2]!).filter((u) => u !== uid);
        return `${m[1]} UID FETCH ${others.length ? others.join(',') : '999999'} (UID BODY.PEEK[] MODSEQ)\r\n`;
      },
    });
    const id = await h.addMailbox(address, { folders });
    await h.mailboxes.update(TENANT, id, {
      imap: { host: relay.host, port: relay.port, tls: false, allowPlaintext: true },
    });
    return { id, faulty, relay };
  }

  const rows = (id: string) =>
    knexOf(h.runtime.orm)('message')
      .where({ mailbox_id: id })
      .orderBy(['folder', 'uid'])
      .select('folder', 'uid', 'kind', 'provider_id', 'problems');

  /** The problems column: JSON text on SQLite. */
  const problemsOf = (row: { problems: unknown } | undefined) =>
    typeof row?.problems === 'string' ? JSON.parse(row.problems) : row?.problems;

  const pass = (id: string) => runMailboxSession(h.ctx, TENANT, id, { once: true });

  it('holds the folder at it and names it, the other folders going on, then records it without its content and reads the rest', async () => {
    const address = 'trattenuto@comune.pec.test';
    const inbox = [0, 1, 2, 3, 4].map(() => fixtures.envelope(next++, [address]));
    const archived = fixtures.envelope(next++, [address]);
    const { id, relay } = await mailboxWithholding(address, 2, ['INBOX', 'Archivio']);
    try {
      await h.append(
        address,
        inbox.map((e) => e.raw),
      );
      await h.append(address, [archived.raw], 'Archivio');
      const held = [];
      for (let n = 1; n <= WITHHELD_PASSES; n++) {
        await pass(id);
        const health = await h.mailboxes.health(TENANT, id);
        held.push({
          stored: (await rows(id)).map((r) => `${r.folder}/${r.uid}`),
          status: health.status,
          problem: health.folderProblems.map((p) => p.reason).join(),
          withheld: health.folders.find((f) => f.folder === 'INBOX')?.withheld,
        });
      }
      expect(held).toEqual(
        [1, 2].map((passes) => ({
          stored: ['Archivio/1', 'INBOX/1'],
          status: 'failing',
          problem: expect.stringMatching(/folder "INBOX" is held at UID 2: .*returned none/),
          withheld: { uid: 2, passes, since: expect.any(String) },
        })),
      );

      await pass(id);
      const health = await h.mailboxes.health(TENANT, id);
      const stored = await rows(id);
      const cases = (
        await knexOf(h.runtime.orm)('outbox').where({ kind: INTAKE_OUTBOX_KIND }).pluck('payload')
      )
        .map((p: string | { mailboxId: string }) => (typeof p === 'string' ? JSON.parse(p) : p))
        .filter((p: { mailboxId: string }) => p.mailboxId === id);
      expect({
        status: health.status,
        withheld: health.folders.map((f) => f.withheld),
        inbox: stored
          .filter((r) => r.folder === 'INBOX')
          .map((r) => ({ uid: r.uid, kind: r.kind, providerId: r.provider_id })),
        problem: problemsOf(stored.find((r) => r.kind === 'unparseable')),
        // The certified messages open their cases; the one recorded without content none.
        cases: cases.length,
      }).toEqual({
        status: 'ok',
        withheld: [null, null],
        inbox: inbox.map((e, n) =>
          n === 1
            ? { uid: 2, kind: 'unparseable', providerId: null }
            : { uid: n + 1, kind: 'posta-certificata', providerId: e.providerId },
        ),
        problem: [expect.stringMatching(/lists UID 2 of folder "INBOX".*another mail client/)],
        cases: 5,
      });
    } finally {
      await relay.close();
    }
  });

  it('stores whole a message the server returns once it has settled, with nothing recorded without content', async () => {
    const address = 'assestato@comune.pec.test';
    const inbox = [0, 1, 2].map(() => fixtures.envelope(next++, [address]));
    const { id, faulty, relay } = await mailboxWithholding(address, 2);
    try {
      await h.append(
        address,
        inbox.map((e) => e.raw),
      );
      await pass(id);
      faulty.on = false;
      await pass(id);
      const health = await h.mailboxes.health(TENANT, id);
      expect({
        status: health.status,
        withheld: health.folders.map((f) => f.withheld),
        inbox: (await rows(id))
          .filter((r) => r.folder === 'INBOX')
          .map((r) => ({ uid: r.uid, providerId: r.provider_id })),
      }).toEqual({
        status: 'ok',
        withheld: [null],
        inbox: inbox.map((e, n) => ({ uid: n + 1, providerId: e.providerId })),
      });
    } finally {
      await relay.close();
    }
  });
});
