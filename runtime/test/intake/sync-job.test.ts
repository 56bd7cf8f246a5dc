/**
 * The Intake as the API drives it, with the mailbox-sync job running in the runtime's scheduler:
 * a mailbox changed through the Intake is followed by its running session at once, "sync now"
 * refuses a disabled mailbox, and a refused login is not retried by the repeating job until
 * someone asks.
 */
import type { Agenda, Job } from 'agenda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createIntake,
  MAILBOX_SYNC_JOB,
  type Intake,
  type MailboxInput,
  type MailboxSyncJobData,
} from '../../src/intake/index.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { eventually, within } from '../support/wait.js';
import { countMessages } from './support/counts.js';
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

/** Resolves once `runs` runs of the mailbox's sync job have finished. */
function jobRunsEnded(agenda: Agenda, mailboxId: string, runs = 1): Promise<void> {
  return new Promise((resolve) => {
    let left = runs;
    const onComplete = (job: Job) => {
      if ((job.attrs.data as MailboxSyncJobData).mailboxId !== mailboxId || --left > 0) return;
      agenda.off(`complete:${MAILBOX_SYNC_JOB}`, onComplete);
      resolve();
    };
    agenda.on(`complete:${MAILBOX_SYNC_JOB}`, onComplete);
  });
}

describe.skipIf(Boolean(dovecotMissing))('the mailbox-sync job and its mailbox', () => {
  let h: IntakeHarness;
  let intake: Intake;
  let agenda: Agenda;
  let next = 0;
  const mail = (address: string) => [fixtures.envelope(next++, [address]).raw];

  async function startIntake(sessionMs: number): Promise<void> {
    // A poll slower than any test: only IDLE, wake-ups and new sessions bring mail in.
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000 });
    await h.runtime.start();
    agenda = h.runtime.scheduler.agenda;
    intake = createIntake(h.ctx, agenda, { sessionMs, syncRequestCheckMs: 200 });
  }

  async function create(address: string, input: Partial<MailboxInput> = {}) {
    await h.dovecot.addUser({ user: address, password: PASSWORD });
    return intake.createMailbox(TENANT, {
      name: address,
      address,
      imap: { host: h.dovecot.host, port: h.dovecot.port, tls: false, allowPlaintext: true },
      username: address,
      password: PASSWORD,
      ...input,
    });
  }

  const inFolder = (id: string, folder: string) =>
    countMessages(h.runtime.orm, { mailbox_id: id, folder });
  const health = (id: string) => h.mailboxes.health(TENANT, id);

  describe('sessions that outlast the test', () => {
    beforeAll(() => startIntake(60_000));
    afterAll(async () => {
      intake?.jobs?.stop();
      await h?.close();
    });

    it('reads a folder added through the Intake at once', async () => {
      const address = 'protocollo@comune.pec.test';
      await h.append(address, mail(address));
      const { id } = await create(address);
      await eventually('the first message', async () => (await inFolder(id, 'INBOX')) === 1);
      await h.append(address, mail(address), 'Archivio');
      await intake.updateMailbox(TENANT, id, { folders: ['INBOX', 'Archivio'] });
      await eventually(
        'the message in Archivio',
        async () => (await inFolder(id, 'Archivio')) === 1,
      );
    });

    it('"sync now" asked on a node that does not run the session (no scheduler there) wakes it', async () => {
      const address = 'ragioneria@comune.pec.test';
      await h.dovecot.addUser({ user: address, password: PASSWORD });
      const client = await h.imap(address);
      await client.mailboxCreate('Archivio');
      await client.logout();
      const { id } = await create(address, { folders: ['INBOX', 'Archivio'] });
      await eventually('the first pass', async () => (await health(id)).status === 'ok');
      // IDLE watches INBOX: mail in Archivio waits for the poll, ten minutes away.
      await h.append(address, mail(address), 'Archivio');
      const apiNode = createIntake(h.ctx, null);
      expect(await apiNode.syncNow(TENANT, id)).toEqual({ scheduled: true });
      await eventually(
        'the message in Archivio',
        async () => (await inFolder(id, 'Archivio')) === 1,
      );
    });

    it('ends the running session when the mailbox is disabled, and health stays disabled', async () => {
      const { id } = await create('urp@comune.pec.test');
      await eventually('the first pass', async () => (await health(id)).status === 'ok');
      const ended = jobRunsEnded(agenda, id);
      await intake.updateMailbox(TENANT, id, { enabled: false });
      await within('the session to end', ended);
      expect((await health(id)).status).toBe('disabled');
    });

    it('refuses "sync now" on a disabled mailbox and schedules nothing', async () => {
      const { id } = await create('tributi@comune.pec.test', { enabled: false });
      await expect(intake.syncNow(TENANT, id)).rejects.toMatchObject({
        code: 'mailbox-disabled',
        status: 409,
      });
      const jobs = await knexOf(h.runtime.orm)('agenda_jobs').where({ name: MAILBOX_SYNC_JOB });
      expect(jobs.filter((j) => JSON.parse(j.data).mailboxId === id)).toEqual([]);
    });
  });

  describe('a refused login', () => {
    // Sessions this short make the job run again and again: the next runs must not log in.
    beforeAll(() => startIntake(1_000));
    afterAll(async () => {
      intake?.jobs?.stop();
      await h?.close();
    });

    /** A mailbox whose stored password the server refuses, already marked so. */
    async function refused(address: string): Promise<string> {
      const { id } = await create(address, { password: 'scaduta' });
      await eventually(
        'the refused login',
        async () => (await health(id)).status === 'auth-failed',
      );
      return id;
    }

    it('is not tried again by the next runs of the job; "sync now" tries once more', async () => {
      const address = 'anagrafe@comune.pec.test';
      const id = await refused(address);
      await within('three more runs of the job', jobRunsEnded(agenda, id, 3));
      expect(await health(id)).toMatchObject({ status: 'auth-failed', consecutiveFailures: 1 });

      // The provider takes the stored password again (an app password re-activated).
      await h.dovecot.addUser({ user: address, password: 'scaduta' });
      await h.append(address, mail(address));
      expect(await intake.syncNow(TENANT, id)).toEqual({ scheduled: true });
      await eventually('the message', async () => (await inFolder(id, 'INBOX')) === 1);
    });

    it('syncs again after a connection test that logs in', async () => {
      const address = 'suap@comune.pec.test';
      const id = await refused(address);
      await h.dovecot.addUser({ user: address, password: 'scaduta' });
      await h.append(address, mail(address));
      expect(await intake.testConnection(TENANT, id)).toMatchObject({ ok: true });
      await eventually('the message', async () => (await inFolder(id, 'INBOX')) === 1);
    });
  });
});
