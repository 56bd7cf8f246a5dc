/**
 * The /proc readings bench:ingest splits its CPU time with. Busy loops run 400 ms of wall time and
 * are asked for 100 ms of CPU: a loaded 2-core runner still gives them that, a broken reading none.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { processTreeCpu, splitThreads, threadCpu } from './cpu-accounting.js';

/** Keeps the calling thread busy for `ms`. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('splitThreads', () => {
  it('counts the main thread, threads started in between, and threads that lived through', () => {
    const main = process.pid;
    const before = new Map([
      [main, { user: 1, system: 0.5 }],
      [main + 1, { user: 2, system: 3 }],
    ]);
    const after = new Map([
      [main, { user: 1.75, system: 0.5 }],
      [main + 1, { user: 2.25, system: 4 }],
      [main + 2, { user: 0.5, system: 0.25 }],
    ]);
    expect(splitThreads(before, after)).toEqual({
      main: { user: 0.75, system: 0 },
      started: { user: 0.5, system: 0.25 },
      helpers: { user: 0.25, system: 1 },
    });
  });
});

// /proc is Linux's; the benchmark prints no split elsewhere. Skipped loudly there, failed in CI.
const hasProc = existsSync('/proc/self/task');
if (!hasProc) {
  if (process.env.CI === 'true') throw new Error('/proc/self/task is missing: CI runs on Linux');
  console.warn('cpu-accounting: no /proc here (not Linux); its readings are not tested');
}

describe.runIf(hasProc)('on Linux /proc', () => {
  it("reads this thread's CPU, and a worker's as a thread of its own", async () => {
    const before = threadCpu();
    spin(400);
    const worker = new Worker(
      'const end = Date.now() + 400; while (Date.now() < end); require("worker_threads").parentPort.postMessage("done"); setInterval(() => {}, 1000);',
      { eval: true },
    );
    await new Promise((resolve) => worker.once('message', resolve));
    const split = splitThreads(before, threadCpu());
    await worker.terminate();
    expect(split.main.user + split.main.system).toBeGreaterThanOrEqual(0.1);
    expect(split.started.user + split.started.system).toBeGreaterThanOrEqual(0.1);
  });

  it('sums a process tree, children that already exited included', async () => {
    const script =
      'const { execFileSync } = require("node:child_process");' +
      'execFileSync(process.execPath, ["-e", "const e = Date.now() + 400; while (Date.now() < e);"]);' +
      'process.stdout.write("ready\\n"); setInterval(() => {}, 1000);';
    const parent = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise((resolve) => parent.stdout.once('data', resolve));
      // The busy grandchild has exited and been waited for: only the reaped time holds it.
      expect(processTreeCpu(parent.pid!)).toBeGreaterThanOrEqual(0.1);
    } finally {
      parent.kill();
    }
    expect(processTreeCpu(2 ** 22 + 12345)).toBeNull();
  });
});
