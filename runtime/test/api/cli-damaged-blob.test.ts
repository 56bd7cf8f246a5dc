/**
 * `pectrack messages reparse` meeting a blob of the wrong length (a restore that cut a file
 * short): one line naming the message, the other messages read, exit code 1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { unparseableFacts } from '../../src/intake/facts.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { recordBatch } from '../../src/intake/record.js';
import { createRuntime } from '../../src/runtime.js';
import { pecFixtures } from '../intake/support/fixtures.js';
import { runPectrack } from './support/cli.js';

const dataDir = mkdtempSync(join(tmpdir(), 'pectrack-cli-damaged-'));
const pectrack = (args: string[], env: Record<string, string>) => runPectrack(dataDir, args, env);

describe('pectrack messages reparse over a damaged blob', { timeout: 180_000 }, () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('names the damaged message in one line, reads the others, and exits 1', async () => {
    const fixtures = pecFixtures();
    const anchors = join(dataDir, 'ca.pem');
    writeFileSync(anchors, fixtures.ca.certificatePem);
    const env = { PECTRACK_TRUST_ANCHORS: anchors };
    const runtime = await createRuntime(
      loadConfig({ ...process.env, PECTRACK_DATA_DIR: dataDir, ...env }),
    );
    const ids: string[] = [];
    let damagedPath = '';
    try {
      const mailbox = await mailboxServices(runtime.intake.ctx).create('default', {
        name: 'Protocollo',
        address: 'protocollo@comune.pec.test',
        imap: { host: '127.0.0.1', port: 143, tls: false, allowPlaintext: true },
        username: 'protocollo',
        password: 'segreto',
      });
      for (const [uid, n] of [
        [1, 1],
        [2, 2],
      ] as const) {
        const { raw } = fixtures.envelope(n, ['protocollo@comune.pec.test']);
        const stored = await runtime.intake.ctx.blobs.put(raw);
        await runtime.intake.ctx.blobs.flush();
        const facts = unparseableFacts(stored.sha256, 'parse worker exited with code 1');
        await recordBatch(
          runtime.orm,
          'default',
          { mailboxId: mailbox.id, folder: 'INBOX', uidValidity: '1', lastUid: uid },
          [{ uid, ...stored, facts, event: null }],
          new Date(),
        );
        if (n === 1) damagedPath = join(dataDir, 'blobs', stored.sha256.slice(0, 2), stored.sha256);
      }
      const listed = await runtime.intake.messages.list('default', { kind: 'unparseable' });
      ids.push(...listed.map((m) => m.id));
    } finally {
      await runtime.stop();
    }
    expect(ids).toHaveLength(2);
    // The first message's file was cut short.
    writeFileSync(damagedPath, 'Received: from somewhere\r\n');

    const run = await pectrack(['messages', 'reparse', '--kind', 'unparseable'], env);
    // One line per problem, never a stack trace.
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(
      run.stderr
        .trim()
        .split('\n')
        .every((line) => line.startsWith('pectrack: ')),
    ).toBe(true);
    expect(run.code).toBe(1);
    // The other message was read again all the same.
    expect(run.stdout).toContain('unparseable -> posta-certificata');
    expect(run.stdout).toContain('1 could not be read');
  });
});
