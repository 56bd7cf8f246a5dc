/**
 * syncfs(2) for Node, which has no binding for it: one long-lived shell runs coreutils
 * `sync -f DIR` for each request and answers on a line. Spawning `sync` per request cost
 * the server about 12 ms of its own CPU each time (a large process forks slowly); writing a
 * line to a pipe costs nothing. A shell that dies is started again on the next request.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';

const SCRIPT =
  'while IFS= read -r dir; do if sync -f "$dir" 2>/dev/null; then echo ok; else echo fail; fi; done';

type SyncShell = ChildProcessByStdio<Writable, Readable, null>;

interface Waiting {
  dir: string;
  resolve(): void;
  reject(error: Error): void;
}

export class FilesystemSync {
  private shell: SyncShell | null = null;
  private readonly waiting: Waiting[] = [];

  /** Resolves once everything written to DIR's file system is on stable storage. */
  sync(dir: string): Promise<void> {
    if (/[\r\n]/.test(dir))
      return Promise.reject(new Error(`cannot sync a path with a line break`));
    return new Promise((resolve, reject) => {
      const shell = this.shell ?? this.start();
      this.waiting.push({ dir, resolve, reject });
      shell.stdin.write(`${dir}\n`);
    });
  }

  private start(): SyncShell {
    const shell = spawn('sh', ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.shell = shell;
    // The helper never keeps the server alive; it exits on its own when stdin closes.
    shell.unref();
    (shell.stdin as unknown as { unref?: () => void }).unref?.();
    (shell.stdout as unknown as { unref?: () => void }).unref?.();
    createInterface({ input: shell.stdout }).on('line', (line) => {
      const next = this.waiting.shift();
      if (!next) return;
      if (line === 'ok') next.resolve();
      else next.reject(new Error(`sync -f ${next.dir} failed`));
    });
    const gone = (reason: string) => {
      if (this.shell !== shell) return;
      this.shell = null;
      for (const waiting of this.waiting.splice(0)) waiting.reject(new Error(reason));
    };
    shell.on('error', (error) => gone(`sync helper failed: ${error.message}`));
    shell.on('exit', (code, signal) => gone(`sync helper exited (${signal ?? code})`));
    shell.stdin.on('error', (error) => gone(`sync helper failed: ${error.message}`));
    return shell;
  }
}
