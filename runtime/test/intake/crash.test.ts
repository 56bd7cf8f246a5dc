/**
 * The runtime killed with SIGKILL in the middle of a 2,000-message sync, then restarted:
 * nothing lost, nothing duplicated, counted row by row.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';
import {
  countIntakeEntries,
  countMessages,
  distinctProviderIds,
  checkpointOf,
} from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, startHarness, TENANT, type IntakeHarness } from './support/services.js';
import type { SyncWorkerConfig } from './support/sync-worker.js';

const TOTAL = 2000;
const WORKER = fileURLToPath(new URL('./support/sync-worker.ts', import.meta.url));
const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe.skipIf(Boolean(dovecotMissing))('intake survives SIGKILL mid-sync', () => {
  let h: IntakeHarness;
  let mailboxId: string;
  const address = 'protocollo@comune.pec.test';

  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures);
    mailboxId = await h.addMailbox(address);
    await h.append(
      address,
      Array.from({ length: TOTAL }, (_, n) => fixtures.envelope(n, [address]).raw),
    );
  }, 300_000);
  afterAll(async () => h?.close());

  function worker(): ChildProcess {
    const config: SyncWorkerConfig = {
      database: h.runtime.config.database,
      blobDir: h.blobDir,
      secretKeyHex: h.secretKey.toString('hex'),
      trustAnchorPem: fixtures.ca.certificatePem,
      tenantId: TENANT,
      mailboxId,
      batchMessages: 50,
    };
    return spawn(process.execPath, ['--conditions=development', '--import', 'tsx', WORKER], {
      env: { ...process.env, PECTRACK_SYNC_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  }

  const exited = (child: ChildProcess) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', (code, signal) => resolve({ code, signal, out }));
    });

  it('loses nothing and duplicates nothing', async () => {
    const first = worker();
    const firstExit = exited(first);
    const stored = await eventually(
      'the first process to commit some batches',
      async () => {
        const n = await countMessages(h.runtime.orm);
        return n >= 300 ? n : null;
      },
      240_000,
    );
    first.kill('SIGKILL');
    const killed = await firstExit;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = await countMessages(h.runtime.orm);
    expect(atKill).toBeGreaterThanOrEqual(stored);
    expect(atKill).toBeLessThan(TOTAL);
    // What was committed is consistent: every stored message has its intake entry and the checkpoint covers it.
    expect(await countIntakeEntries(h.runtime.orm)).toBe(atKill);
    expect(Number((await checkpointOf(h.runtime.orm, mailboxId)).last_uid)).toBe(atKill);

    const second = await exited(worker());
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.out.trim().split('\n').at(-1)!) as {
      fetched: number;
      duplicates: number;
    };
    expect(summary.fetched).toBe(TOTAL - atKill);
    expect(summary.duplicates).toBe(0);
    expect(await countMessages(h.runtime.orm)).toBe(TOTAL);
    expect(await distinctProviderIds(h.runtime.orm)).toBe(TOTAL);
    expect(await countIntakeEntries(h.runtime.orm)).toBe(TOTAL);
    expect(Number((await checkpointOf(h.runtime.orm, mailboxId)).last_uid)).toBe(TOTAL);
  });
});
