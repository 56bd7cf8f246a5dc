/**
 * The `pectrack` command as users run it: the bin shim in a child process (through tsx and the
 * package's development export), against a data directory of the test's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = join(REPO, 'runtime/bin/pectrack.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `pectrack ARGS` on `dataDir`, with `env` over the test's environment. */
export function spawnPectrack(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, ['--conditions=development', '--import', 'tsx', BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, PECTRACK_DATA_DIR: dataDir, PECTRACK_LOG_LEVEL: 'warn', ...env },
  });
}

/** Runs `pectrack ARGS` to its end: exit code and what it printed. */
export function runPectrack(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawnPectrack(dataDir, args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
