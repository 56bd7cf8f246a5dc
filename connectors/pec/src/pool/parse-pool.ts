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
  /**
   * A busy worker that answers nothing for this long is stuck on its message (a loop nobody
   * foresaw): it is ended, and its messages are parsed again alone, so only that one is rejected.
   * Far above any real parse (a 30 MB message takes seconds), so a slow machine loses nothing.
   */
  answerTimeoutMs?: number;
}

export interface ParseRequestOptions {
  /**
   * Lets the bytes move to the worker instead of being copied (a 30 MB message is not held
   * twice): the buffer is unusable afterwards, and should its worker die, the pool calls this
   * to read the bytes again for a retry.
   */
  reread?: () => Promise<Buffer>;
  /** How to read the inner message this time, when not as the pool was configured. */
  inner?: 'full' | 'outline';
  /** When the message was received (ParseOptions.receivedAt). */
  receivedAt?: Date;
}

export class ParseWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The pool was closed (the runtime stopping) before the parse ended: nothing is known of the
 * message, which must not be recorded as unparseable. Its caller reads it again next time.
 */
export class ParsePoolClosedError extends ParseWorkerError {
  constructor() {
    super('parse pool is closed');
  }
}

const WORKER_FILE = fileURLToPath(new URL('../../dist/pool/worker.js', import.meta.url));
const DEFAULT_IDLE_MS = 30_000;
const DEFAULT_ANSWER_TIMEOUT_MS = 60_000;
/**
 * A worker's new space grows to 32 MB by default (two 16 MB semi-spaces, measured on Node 20);
 * a parse's garbage is short-lived and small beside the message, and 16 MB lowered
 * bench:ingest's peak RSS by 10-20 MB (316 and 330 MB against 335 and 334, alternating) with
 * the same worker CPU (2.6-2.7 s).
 */
const YOUNG_GENERATION_MB = 16;

/** One parse asked of the pool. */
interface Job {
  id: number;
  /** The caller's bytes, kept for a retry; null once they moved to a worker. */
  raw: Buffer | null;
  reread: (() => Promise<Buffer>) | undefined;
  inner: 'full' | 'outline' | undefined;
  receivedAt: Date | undefined;
  /** Set once the job runs alone on a worker after a worker died with it in flight. */
  isolated: boolean;
  resolve(envelope: PecEnvelope): void;
  reject(error: Error): void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly jobs = new Map<number, Job>();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly idleMs: number;
  /** Armed while busy, again at each answer: see ParsePoolOptions.answerTimeoutMs. */
  private answerTimer: NodeJS.Timeout | undefined;
  private readonly answerTimeoutMs: number;
  private stalled = false;

  constructor(
    settings: WorkerSettings,
    options: ParsePoolOptions,
    private readonly onGone: (self: PoolWorker, victims: Job[], reason: string) => void,
  ) {
    // No cap on the old generation: a worker over its heap limit can abort the whole process
    // (Node's OOM handler), so a cap would promise an isolation it does not give. The young
    // generation is only where short-lived objects are collected, never a reason to fail.
    this.worker = new Worker(WORKER_FILE, {
      workerData: settings,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.answerTimeoutMs = options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
    this.worker.unref();
    this.worker.on('message', (response: PoolResponse) => this.settle(response));
    this.worker.on('error', (error) => this.fail(`parse worker failed: ${error.message}`));
    this.worker.on('exit', (code) =>
      this.fail(
        this.stalled
          ? `parse worker gave no answer within ${this.answerTimeoutMs} ms`
          : `parse worker exited with code ${code}`,
      ),
    );
  }

  send(job: Job): void {
    clearTimeout(this.idleTimer);
    if (this.jobs.size === 0) {
      this.worker.ref();
      this.awaitAnswer();
    }
    this.jobs.set(job.id, job);
    const raw = job.raw!;
    const owned =
      job.reread !== undefined && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
    // A view into a larger buffer would carry all of that buffer to the worker: copy its bytes.
    const bytes = owned ? raw : new Uint8Array(raw);
    if (owned) job.raw = null;
    const request: PoolRequest = {
      id: job.id,
      raw: bytes,
      ...(job.inner && { inner: job.inner }),
      ...(job.receivedAt && { receivedAt: job.receivedAt.getTime() }),
    };
    this.worker.postMessage(request, [bytes.buffer as ArrayBuffer]);
  }

  private settle(response: PoolResponse): void {
    const job = this.jobs.get(response.id);
    if (!job) return;
    this.jobs.delete(response.id);
    if ('envelope' in response) job.resolve(response.envelope);
    else job.reject(new ParseWorkerError(response.error));
    clearTimeout(this.answerTimer);
    if (this.jobs.size > 0) {
      this.awaitAnswer();
      return;
    }
    // Idle: no longer keeps the process alive, and exits after a while.
    this.worker.unref();
    this.idleTimer = setTimeout(() => void this.worker.terminate(), this.idleMs);
    this.idleTimer.unref();
  }

  /** Ends the worker if its next answer does not come in time: it is stuck on a message. */
  private awaitAnswer(): void {
    this.answerTimer = setTimeout(() => {
      this.stalled = true;
      void this.worker.terminate();
    }, this.answerTimeoutMs);
    this.answerTimer.unref();
  }

  private fail(reason: string): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.answerTimer);
    const victims = [...this.jobs.values()];
    this.jobs.clear();
    this.onGone(this, victims, reason);
  }
}

/**
 * When a worker dies (terminated while busy, an error outside the parser), any of the messages
 * it held may be the cause: each is parsed again alone on a worker of its own, so only the
 * message that kills a worker by itself is rejected, and the others come back as if nothing
 * had happened.
 */
export class ParsePool {
  private readonly workers: PoolWorker[] = [];
  private readonly settings: WorkerSettings;
  private readonly suspects: Job[] = [];
  private isolating = false;
  private isolation: PoolWorker | null = null;
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
    if (this.closed) return Promise.reject(new ParsePoolClosedError());
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        raw,
        reread: request.reread,
        inner: request.inner,
        receivedAt: request.receivedAt,
        isolated: false,
        resolve,
        reject,
      };
      this.leastBusy().send(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    if (this.isolation) workers.push(this.isolation);
    this.isolation = null;
    await Promise.all(workers.map((w) => w.worker.terminate()));
    for (const job of this.suspects.splice(0)) job.reject(new ParsePoolClosedError());
  }

  private spawn(): PoolWorker {
    return new PoolWorker(this.settings, this.options, (gone, victims, reason) =>
      this.buried(gone, victims, reason),
    );
  }

  private leastBusy(): PoolWorker {
    if (this.workers.length < this.options.size) {
      const worker = this.spawn();
      this.workers.push(worker);
      return worker;
    }
    return this.workers.reduce((best, w) => (w.jobs.size < best.jobs.size ? w : best));
  }

  private buried(gone: PoolWorker, victims: Job[], reason: string): void {
    const index = this.workers.indexOf(gone);
    if (index >= 0) this.workers.splice(index, 1);
    if (this.isolation === gone) this.isolation = null;
    for (const job of victims) {
      if (this.closed) job.reject(new ParsePoolClosedError());
      // Alone on its worker: this message is what the worker died of.
      else if (job.isolated)
        job.reject(new ParseWorkerError(`the parse worker died on this message: ${reason}`));
      else {
        job.isolated = true;
        this.suspects.push(job);
      }
    }
    void this.isolate();
  }

  /** Parses the suspects one at a time on a worker kept for them. */
  private async isolate(): Promise<void> {
    if (this.isolating) return;
    this.isolating = true;
    try {
      for (let job = this.suspects.shift(); job; job = this.suspects.shift()) {
        const suspect = job;
        try {
          suspect.raw ??= await suspect.reread!();
        } catch (error) {
          suspect.reject(
            new ParseWorkerError(
              `the parse worker died and the message could not be read again: ${(error as Error).message}`,
            ),
          );
          continue;
        }
        if (this.closed) {
          suspect.reject(new ParsePoolClosedError());
          continue;
        }
        await new Promise<void>((done) => {
          const { resolve, reject } = suspect;
          suspect.resolve = (envelope) => (resolve(envelope), done());
          suspect.reject = (error) => (reject(error), done());
          this.isolation ??= this.spawn();
          this.isolation.send(suspect);
        });
      }
    } finally {
      this.isolating = false;
    }
  }
}
