/**
 * The mailbox-sync job as the API drives it (Intake with the runtime's scheduler). Found by
 * review: switched off and straight back on, a mailbox was watched by two sessions
 * (ARCHITECTURE §2: one worker per mailbox); it failed before its fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntake, type Intake } from '../../src/intake/index.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';
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

describe.skipIf(Boolean(dovecotMissing))('the sync job across disable and enable', () => {
  let h: IntakeHarness;
  let intake: Intake;

  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 10 * 60_000 });
    await h.runtime.start();
    intake = createIntake(h.ctx, h.runtime.scheduler.agenda, {
      sessionMs: 60_000,
      syncRequestCheckMs: 200,
    });
  });
  afterAll(async () => {
    intake?.jobs?.stop();
    await h?.close();
  });

  /** Sessions this process runs right now (one mailbox in this suite). */
  const sessions = () => (intake.jobs as unknown as { running: Set<unknown> }).running.size;

  it('a mailbox switched off and straight back on is watched by one session, not two', async () => {
    // An administrator who unticks "enabled", saves, ticks it and saves again (or a script that
    // toggles it) must not leave two sessions on one mailbox: the old one keeps its IMAP
    // connection and both fetch and commit the same UIDs (the one-worker-per-mailbox rule).
    const address = 'protocollo@comune.pec.test';
    await h.dovecot.addUser({ user: address, password: PASSWORD });
    const { id } = await intake.createMailbox(TENANT, {
      name: address,
      address,
      imap: { host: h.dovecot.host, port: h.dovecot.port, tls: false, allowPlaintext: true },
      username: address,
      password: PASSWORD,
    });
    await eventually(
      'the first pass',
      async () => (await h.mailboxes.health(TENANT, id)).status === 'ok',
    );
    expect(sessions()).toBe(1);
    await intake.updateMailbox(TENANT, id, { enabled: false });
    await intake.updateMailbox(TENANT, id, { enabled: true });
    await eventually(
      'the re-enabled mailbox to be watched again',
      async () => (await h.mailboxes.health(TENANT, id)).status === 'ok' && sessions() >= 1,
      20_000,
    );
    // Give the old session every chance to notice and end.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(sessions()).toBe(1);
  });
});
