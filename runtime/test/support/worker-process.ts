/** Starts and kills crash-worker.ts child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RuntimeConfig } from '../../src/config.js';

const WORKER = fileURLToPath(new URL('./crash-worker.ts', import.meta.url));

export interface Worker {
  child: ChildProcess;
  /** SIGKILL: no shutdown code runs, like a power cut. */
  kill(): Promise<void>;
}

/** Spawns the worker and resolves once it printed `ready` (READY or RUNNING). */
export async function startWorker(
  config: RuntimeConfig,
  phase: 'seed' | 'resume',
  connectorUrl: string,
): Promise<Worker> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PECTRACK_DATA_DIR: config.dataDir,
    CONNECTOR_URL: connectorUrl,
  };
  if (config.database.kind === 'postgresql') env.PECTRACK_DATABASE_URL = config.database.url;
  else delete env.PECTRACK_DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, phase], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker ${phase} did not get ready: ${stderr}`)),
      60_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      if (/READY|RUNNING/.test(chunk.toString())) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${phase} exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
