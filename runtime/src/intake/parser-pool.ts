/**
 * Parsing is the CPU-heavy step of the intake (MIME walk, signature check): a pool of worker
 * threads parses while the main thread fetches, stores and commits, so ingest uses every core.
 */
import { Worker } from 'node:worker_threads';
import type { PecEnvelope } from '@pectrack/connector-pec';

export interface ParserPool {
  parse(raw: Buffer): Promise<PecEnvelope>;
  close(): Promise<void>;
}

interface Pending {
  resolve(envelope: PecEnvelope): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  busy: number;
  pending: Map<number, Pending>;
}

/**
 * From sources (vitest, tsx) the worker is TypeScript too: a bootstrap registers tsx's loader
 * in the thread first (a worker ignores `--import` in its execArgv).
 */
function startWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url), { workerData });
  const entry = new URL('./parse-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, execArgv: ['--conditions=development'] });
}

export function createParserPool(size: number, trustAnchors?: ReadonlyArray<string | Uint8Array>): ParserPool {
  let nextId = 0;
  const threads: Thread[] = Array.from({ length: size }, () => {
    const thread: Thread = {
      worker: startWorker({ trustAnchors: trustAnchors ? [...trustAnchors] : undefined }),
      busy: 0,
      pending: new Map(),
    };
    thread.worker.on('message', (reply: { id: number; envelope?: PecEnvelope; error?: string }) => {
      const waiting = thread.pending.get(reply.id);
      thread.pending.delete(reply.id);
      release(thread);
      if (!waiting) return;
      if (reply.envelope) waiting.resolve(reply.envelope);
      else waiting.reject(new Error(reply.error ?? 'parser thread failed'));
    });
    // A dead thread fails what it held; the caller stores those messages as unparseable.
    thread.worker.on('error', (error) => failAll(thread, error));
    thread.worker.on('exit', (code) => failAll(thread, new Error(`parser thread exited with code ${code}`)));
    // An idle pool must not keep the process alive; a busy one must.
    thread.worker.unref();
    return thread;
  });

  function release(thread: Thread): void {
    thread.busy -= 1;
    if (thread.busy === 0) thread.worker.unref();
  }

  function failAll(thread: Thread, error: Error): void {
    for (const waiting of thread.pending.values()) waiting.reject(error);
    thread.pending.clear();
    thread.busy = 0;
    thread.worker.unref();
  }

  return {
    parse(raw) {
      const thread = threads.reduce((least, t) => (t.busy < least.busy ? t : least));
      const id = nextId++;
      if (thread.busy === 0) thread.worker.ref();
      thread.busy += 1;
      return new Promise((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        thread.worker.postMessage({ id, raw });
      });
    },
    async close() {
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
