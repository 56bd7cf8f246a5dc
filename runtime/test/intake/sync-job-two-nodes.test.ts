/**
 * Mailbox sync with two runtime nodes on one PostgreSQL database (ARCHITECTURE §2: one job per
 * mailbox, so one worker cluster-wide).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotMissing } from './support/services.js';
import { pecFixtures } from './support/fixtures.js';
import { countMessages } from './support/counts.js';
import { eventually } from '../support/wait.js';
import { postgres, startCluster, stopNode, TENANT, type Cluster } from './support/cluster.js';

const fixtures = pecFixtures();

describe.skipIf(Boolean(dovecotMissing) || !postgres.available)(
  'mailbox sync on two nodes of one PostgreSQL database',
  () => {
    let cluster: Cluster;

    beforeAll(async () => {
      cluster = await startCluster(fixtures);
    });
    afterAll(async () => {
      await cluster?.close();
    });

    it('a mailbox switched on from two nodes at once gets one sync job, not two', async () => {
      // Two administrators (or one form submitted twice behind a load balancer) switch the same
      // mailbox on through two nodes: it must end with one job, so one session and one IMAP login.
      const { a, b } = cluster;
      const ids: string[] = [];
      for (let n = 0; n < 6; n++) {
        const id = await cluster.addMailbox(a, `uffici${n}@comune.pec.test`, { enabled: false });
        await Promise.all([
          a.intake.updateMailbox(TENANT, id, { enabled: true }),
          b.intake.updateMailbox(TENANT, id, { enabled: true }),
        ]);
        ids.push(id);
      }
      // Every job due now has had time to start its session.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const perMailbox = await Promise.all(
        ids.map(async (id) => ({
          syncJobs: (await cluster.syncJobs(id)).length,
          sessionsOn: cluster.sessionsOf(id).length,
        })),
      );
      for (const id of ids) await a.intake.updateMailbox(TENANT, id, { enabled: false });
      expect(perMailbox).toEqual(Array(6).fill({ syncJobs: 1, sessionsOn: 1 }));
    });

    it('"sync now" on the node without the session wakes the session on the other node', async () => {
      // The request is an instant on the mailbox row that the session polls.
      const { a, b } = cluster;
      const address = 'ragioneria@comune.pec.test';
      await cluster.dovecot.addUser({ user: address, password: 'segreto' });
      // Mail in a second folder is not announced by IDLE on INBOX: only the 60 s poll or a wake finds it.
      await cluster.dovecot.deliver(address, [fixtures.envelope(20, [address]).raw], 'Archivio');
      const id = await cluster.addMailbox(a, address, { folders: ['INBOX', 'Archivio'] });
      const holder = await eventually(
        'a session, its first pass done',
        async () =>
          cluster.sessionsOf(id).length === 1 &&
          (await countMessages(a.orm, { mailbox_id: id })) === 1 &&
          cluster.sessionsOf(id)[0],
        30_000,
      );
      await cluster.dovecot.deliver(address, [fixtures.envelope(21, [address]).raw], 'Archivio');
      const [, asking] = holder === 'a' ? [a, b] : [b, a];
      await asking.intake.syncNow(TENANT, id);
      await eventually(
        'the session on the other node to read the new message',
        async () => (await countMessages(a.orm, { mailbox_id: id })) === 2,
        20_000,
      );
      expect(cluster.sessionsOf(id)).toEqual([holder]);
      await a.intake.updateMailbox(TENANT, id, { enabled: false });
    });

    it('a node that stops hands its mailbox over at once, not at its next scheduled run', async () => {
      // A rolling restart stops one node (SIGTERM → runtime.stop()). Its session ends and the job
      // is due at once, so the other node reads the mailbox without waiting for the next run.
      const { a, b } = cluster;
      const address = 'protocollo@comune.pec.test';
      const id = await cluster.addMailbox(a, address);
      const holder = await eventually(
        'a session on one node, its first pass done',
        async () =>
          cluster.sessionsOf(id).length === 1 &&
          (await a.intake.mailboxes.health(TENANT, id)).status === 'ok' &&
          cluster.sessionsOf(id)[0],
        30_000,
      );
      const [stopping, other] = holder === 'a' ? [a, b] : [b, a];
      await stopNode(cluster, stopping);
      const [job] = await cluster.syncJobs(id);
      const handOverInMs = new Date(job!.next_run_at!).getTime() - Date.now();
      await cluster.dovecot.deliver(address, [fixtures.envelope(1, [address]).raw], 'INBOX');
      // The other node polls Agenda every 200 ms here; 30 s is far more than a hand-over takes.
      const deadline = Date.now() + 30_000;
      let count = 0;
      while (Date.now() < deadline) {
        count = await countMessages(other.orm, { mailbox_id: id });
        if (count === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(
        { messagesReadByTheOtherNode: count, sessionsOn: cluster.sessionsOf(id) },
        `the other node had not taken the mailbox over 30 s after the stop (its job next runs in ${Math.round(handOverInMs / 1000)} s)`,
      ).toEqual({ messagesReadByTheOtherNode: 1, sessionsOn: [holder === 'a' ? 'b' : 'a'] });
    });
  },
);
