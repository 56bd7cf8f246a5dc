/**
 * Parses messages on worker threads, so a mailbox sync's IMAP reading, blob writing and commits
 * keep the main thread while signatures, daticert and MIME trees are worked out beside it.
 *
 * The worker always runs the built parser (`dist/pool/worker.js`, also when this module is
 * loaded from its TypeScript source by a test runner): `npm run build` must have run.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PecEnvelope } from '../parser/types.js';
import type { PoolRequest, PoolResponse, WorkerSettings } from './protocol.js';

export interface ParsePoolOptions {
  /** Worker threads; the machine's cores minus one for the caller is a good default. */
  size: number;
  /** PEM text or DER bytes: loaded once per worker. */
  trustAnchors?: ReadonlyArray<string | Uint8Array>;
  inner?: 'full' | 'outline';
  /** A worker idle this long exits, returning its memory; the next parse starts another. */
  idleMs?: number;
}

export interface ParseRequestOptions {
  /**
   * The caller gives the bytes up: a buffer that owns its whole memory moves to the worker
   * instead of being copied (a 30 MB message is not held twice). The buffer is unusable afterwards.
   */
  transfer?: boolean;
}

export class ParseWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseWorkerError';
  }
}

const WORKER_FILE = fileURLToPath(new URL('../../dist/pool/worker.js', import.meta.url));
const DEFAULT_IDLE_MS = 30_000;

interface Pending {
  resolve(envelope: PecEnvelope): void;
  reject(error: Error): void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    settings: WorkerSettings,
    private readonly idleMs: number,
    private readonly onGone: (self: PoolWorker) => void,
  ) {
    this.worker = new Worker(WORKER_FILE, { workerData: settings });
    this.worker.unref();
    this.worker.on('message', (response: PoolResponse) => this.settle(response));
    this.worker.on('error', (error) => this.fail(`parse worker failed: ${error.message}`));
    this.worker.on('exit', (code) => this.fail(`parse worker exited with code ${code}`));
  }

  send(request: PoolRequest, transfer: ArrayBuffer[], pending: Pending): void {
    clearTimeout(this.idleTimer);
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(request.id, pending);
    this.worker.postMessage(request, transfer);
  }

  private settle(response: PoolResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if ('envelope' in response) pending.resolve(response.envelope);
    else pending.reject(new ParseWorkerError(response.error));
    if (this.pending.size > 0) return;
    // Idle: no longer keeps the process alive, and exits after a while.
    this.worker.unref();
    this.idleTimer = setTimeout(() => void this.worker.terminate(), this.idleMs);
    this.idleTimer.unref();
  }

  private fail(reason: string): void {
    clearTimeout(this.idleTimer);
    this.onGone(this);
    for (const pending of this.pending.values()) pending.reject(new ParseWorkerError(reason));
    this.pending.clear();
  }
}

export class ParsePool {
  private readonly workers: PoolWorker[] = [];
  private readonly settings: WorkerSettings;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ParsePoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError(`a parse pool needs at least one worker, got ${options.size}`);
    if (!existsSync(WORKER_FILE))
      throw new Error(
        `parse worker ${WORKER_FILE} is missing: build @pectrack/connector-pec first`,
      );
    this.settings = {
      trustAnchors: options.trustAnchors ?? null,
      inner: options.inner ?? 'full',
    };
  }

  /** Like parsePec: resolves with the envelope; rejects only when a worker itself fails. */
  parse(raw: Buffer, request: ParseRequestOptions = {}): Promise<PecEnvelope> {
    if (this.closed) return Promise.reject(new ParseWorkerError('parse pool is closed'));
    const owned =
      request.transfer && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
    // A view into a larger buffer would carry all of that buffer to the worker: copy its bytes.
    const bytes = owned ? raw : new Uint8Array(raw);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.leastBusy().send({ id, raw: bytes }, [bytes.buffer as ArrayBuffer], { resolve, reject });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private leastBusy(): PoolWorker {
    if (this.workers.length < this.options.size) {
      const worker = new PoolWorker(this.settings, this.options.idleMs ?? DEFAULT_IDLE_MS, (gone) =>
        this.workers.splice(this.workers.indexOf(gone) >>> 0, 1),
      );
      this.workers.push(worker);
      return worker;
    }
    return this.workers.reduce((best, w) => (w.pending.size < best.pending.size ? w : best));
  }
}
