import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';
import {
  buildAccettazione,
  createTestCa,
  createTestProvider,
  prepareSubmission,
} from './testkit/index.js';

describe('pectrack-pec parse', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pectrack-pec-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the envelope as JSON, trusting the anchors given', async () => {
    const ca = createTestCa();
    const provider = createTestProvider(ca);
    const submission = prepareSubmission({
      provider,
      date: new Date('2026-03-02T08:00:00Z'),
      message: {
        from: 'a@pec.test',
        to: ['b@pec.test'],
        subject: 'Prova',
        text: 'Testo',
        messageId: '<m1@client.test>',
      },
    });
    await writeFile(join(dir, 'receipt.eml'), buildAccettazione({ provider, submission }));
    await writeFile(join(dir, 'ca.pem'), ca.certificatePem);
    const written: string[] = [];
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    try {
      await main([
        'node',
        'pectrack-pec',
        'parse',
        join(dir, 'receipt.eml'),
        '--trust-anchor',
        join(dir, 'ca.pem'),
      ]);
    } finally {
      spy.mockRestore();
    }
    const envelope = JSON.parse(written.join(''));
    expect(envelope).toMatchObject({
      kind: 'accettazione',
      originalMessageId: '<m1@client.test>',
      receiptType: null,
      certData: { tipo: 'accettazione', identificativo: submission.identificativo },
      signature: { status: 'valid' },
      inner: null,
      problems: [],
    });
  });

  it('rejects a bad --max-depth naming the option', async () => {
    await expect(
      main(['node', 'pectrack-pec', 'parse', 'x.eml', '--max-depth', 'deep']),
    ).rejects.toThrow(/--max-depth must be a non-negative integer/);
  });
});
