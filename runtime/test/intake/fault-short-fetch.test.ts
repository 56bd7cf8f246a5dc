/**
 * A server that answers the FETCH of a message with fewer bytes than the RFC822.SIZE it listed
 * (a storage or proxy fault: a cut-off body, or none at all) must not have that answer committed
 * as the message and the checkpoint moved past it: the whole message is lost for good. The
 * relay makes Dovecot send the first bytes only (a partial FETCH) and hands the answer to the
 * intake as a plain `BODY[]`, exactly what a server sending a truncated body sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMailboxSession } from '../../src/intake/index.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';
import { CONTENT_FETCH, startFaultRelay, uidsOf, type FaultRelay } from './support/fault-relay.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))(
  'a FETCH answered with fewer bytes than the message has',
  () => {
    let h: IntakeHarness;
    let next = 0;
    // One message per batch: each content FETCH names one UID.
    beforeAll(async () => {
      h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000, batchMessages: 1 });
    });
    afterAll(async () => h?.close());

    /** A mailbox behind a relay that, while `faulty.on`, answers the content of `shortUids` with `bytes` bytes. */
    async function mailboxBehindShortAnswers(address: string, shortUids: number[], bytes: number) {
      const faulty = { on: true };
      const relay: FaultRelay = await startFaultRelay(h.dovecot, {
        onClient(text) {
          const m = CONTENT_FETCH.exec(text);
          if (!faulty.on || !m || !uidsOf(m[2]!).every((uid) => shortUids.includes(uid))) return;
          return `${m[1]} UID FETCH ${m[2]} (UID BODY.PEEK[]<0.${bytes}> MODSEQ)\r\n`;
        },
        onServer: (text) => text.replace(/BODY\[\]<0> /g, 'BODY[] '),
      });
      const id = await h.addMailbox(address);
      await h.mailboxes.update(TENANT, id, {
        imap: { host: relay.host, port: relay.port, tls: false, allowPlaintext: true },
      });
      return { id, faulty, relay };
    }

    const rows = (id: string) =>
      knexOf(h.runtime.orm)('message')
        .where({ mailbox_id: id })
        .orderBy('uid')
        .select('uid', 'size', 'kind', 'provider_id');

    it('does not store a cut-off body as the message: the whole one is stored once the server sends it', async () => {
      const address = 'troncato@comune.pec.test';
      const envelopes = [0, 1, 2].map(() => fixtures.envelope(next++, [address]));
      const { id, faulty, relay } = await mailboxBehindShortAnswers(address, [2], 1000);
      try {
        await h.append(
          address,
          envelopes.map((e) => e.raw),
        );
        await runMailboxSession(h.ctx, TENANT, id, { once: true }).catch(() => undefined);
        faulty.on = false;
        await runMailboxSession(h.ctx, TENANT, id, { once: true });
      } finally {
        await relay.close();
      }
      expect(await rows(id)).toEqual(
        envelopes.map((e, n) => ({
          uid: n + 1,
          size: e.raw.length,
          kind: 'posta-certificata',
          provider_id: e.providerId,
        })),
      );
    });

    it('does not take two messages answered with no bytes for one empty message', async () => {
      const address = 'vuoto@comune.pec.test';
      const envelopes = [0, 1, 2].map(() => fixtures.envelope(next++, [address]));
      const { id, faulty, relay } = await mailboxBehindShortAnswers(address, [2, 3], 0);
      try {
        await h.append(
          address,
          envelopes.map((e) => e.raw),
        );
        await runMailboxSession(h.ctx, TENANT, id, { once: true }).catch(() => undefined);
        faulty.on = false;
        await runMailboxSession(h.ctx, TENANT, id, { once: true });
      } finally {
        await relay.close();
      }
      expect((await rows(id)).map((r) => r.provider_id)).toEqual(
        envelopes.map((e) => e.providerId),
      );
    });
  },
);
