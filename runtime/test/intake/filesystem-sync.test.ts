/** The syncfs helper: one shell for many requests, answers in order, restarted when it dies. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesystemSync } from '../../src/store/filesystem-sync.js';

describe('FilesystemSync', () => {
  it('answers each request in order, fails one for a missing directory, and survives its shell', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pectrack-syncfs-'));
    const helper = new FilesystemSync();
    try {
      const results = await Promise.allSettled([
        helper.sync(dir),
        helper.sync(join(dir, 'missing')),
        helper.sync(dir),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/missing failed/);

      const shell = (helper as unknown as { shell: { pid: number } }).shell;
      process.kill(shell.pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await expect(helper.sync(dir)).resolves.toBeUndefined();
      expect((helper as unknown as { shell: { pid: number } }).shell.pid).not.toBe(shell.pid);
      await expect(helper.sync(`${dir}\nx`)).rejects.toThrow(/line break/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
