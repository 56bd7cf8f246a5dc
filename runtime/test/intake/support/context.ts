/**
 * An intake context over a suite's runtime (no Dovecot, no parse workers), with a blob store in a
 * temporary directory, closed and removed after the suite.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createIntakeContext, type IntakeContext } from '../../../src/intake/index.js';
import type { Runtime } from '../../../src/runtime.js';
import { FileBlobStore } from '../../../src/store/blobs.js';

export function useIntakeContext(
  runtime: () => Runtime,
  options: { now?: () => Date } = {},
): () => IntakeContext {
  let blobDir: string | undefined;
  let ctx: IntakeContext | undefined;
  beforeAll(async () => {
    blobDir = await mkdtemp(join(tmpdir(), 'pectrack-intake-'));
    ctx = createIntakeContext({
      orm: runtime().orm,
      blobs: new FileBlobStore(blobDir),
      secretKey: randomBytes(32),
      ...options,
    });
  });
  afterAll(async () => {
    await ctx?.close();
    if (blobDir) await rm(blobDir, { recursive: true, force: true });
  });
  return () => {
    if (!ctx) throw new Error('the intake context is not ready');
    return ctx;
  };
}
