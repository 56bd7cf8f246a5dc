/**
 * `npm run bench:ingest`: a 10,000-message mailbox (a few messages carrying 25 MB attachments)
 * on a private Dovecot, ingested end to end — fetch, blob store, parse, commit — next to a raw
 * imapflow fetch of the same mailbox in the same run, and to a fetch that only stores the bytes
 * (what the blob store alone costs on this machine). On Linux the ingest's CPU time is also
 * split by thread, and Dovecot's is given for each phase (cpu-accounting.ts). The last line is
 * the summary.
 *
 * The signed corpus takes minutes to build, so it is kept under the system temp directory and
 * reused by later runs (BENCH_REBUILD=1 builds it again).
 *
 * The ingest commits to SQLite, the embedded default; BENCH_DATABASE=postgresql commits to a
 * database of its own on PECTRACK_BENCH_PG_URL instead (pg-database.ts).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import {
  buildTransportEnvelope,
  createTestCa,
  createTestProvider,
  prepareSubmission,
  startDovecot,
  type DovecotServer,
} from '@pectrack/connector-pec/testkit';
import { defaultParseWorkers, type DatabaseConfig, type RuntimeConfig } from '../config.js';
import { CommitChain } from '../intake/commit-chain.js';
import {
  processTreeCpu,
  splitThreads,
  threadCpu,
  type ThreadCpu,
  type ThreadSplit,
} from './cpu-accounting.js';
import { createIntakeContext, runMailboxSession } from '../intake/index.js';
import { mailboxServices } from '../intake/mailboxes.js';
import { createRuntime } from '../runtime.js';
import { FileBlobStore } from '../store/blobs.js';
import { knexOf } from '../store/orm.js';
import { withPgDatabase } from './pg-database.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 3);
const LARGE_BYTES = 25 * 1024 * 1024;
/** As the runtime: the cores but one (PECTRACK_PARSE_WORKERS); 0 parses on the main thread. */
const PARSE_WORKERS = Number(process.env.PECTRACK_PARSE_WORKERS ?? defaultParseWorkers());
const CORPUS = join(tmpdir(), `pectrack-bench-ingest-${MESSAGES}-${LARGE}`);
const DATABASE = process.env.BENCH_DATABASE ?? 'sqlite';
if (DATABASE !== 'sqlite' && DATABASE !== 'postgresql')
  throw new Error(`BENCH_DATABASE=${DATABASE}: sqlite or postgresql`);
const USER = 'protocollo@comune.pec.test';
/** The argument that makes this script only build the corpus (in a child process, see corpusTrustAnchor). */
const BUILD_CORPUS = '--build-corpus';
const PASSWORD = 'bench';

/** Peak RSS of the whole process (parse workers included), and of each phase. */
let peakRss = 0;
type Phase = 'setup' | 'raw' | 'store' | 'ingest';
let phase: Phase = 'setup';
const phasePeakRss: Record<Phase, number> = { setup: 0, raw: 0, store: 0, ingest: 0 };
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  peakRss = Math.max(peakRss, rss);
  phasePeakRss[phase] = Math.max(phasePeakRss[phase], rss);
}, 50);

const log = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => (bytes / 1048576).toFixed(0);

/** CPU time of every thread of this process (Dovecot's is not counted). */
function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** CPU seconds of the private Dovecot's processes so far; null where /proc cannot tell. */
function dovecotCpu(dovecot: DovecotServer): number | null {
  try {
    const pid = Number(readFileSync(join(dovecot.dir, 'run', 'master.pid'), 'utf8').trim());
    return processTreeCpu(pid);
  } catch {
    return null;
  }
}

function dovecotSince(dovecot: DovecotServer, start: number | null): number | null {
  const now = dovecotCpu(dovecot);
  return start === null || now === null ? null : now - start;
}

const secondsText = (seconds: number | null) =>
  seconds === null ? 'n/a' : `${seconds.toFixed(1)} s`;

/** Message n of the corpus: an ordinary instanza, or one carrying a 25 MB attachment. */
function isLarge(n: number): boolean {
  return LARGE > 0 && n % Math.floor(MESSAGES / LARGE) === Math.floor(MESSAGES / LARGE / 2);
}

/**
 * The corpus's trust anchor, once the corpus exists. Building it (25 MB attachments signed in
 * memory) takes more memory than the ingest, so it runs in a child process of its own: the peak
 * RSS printed is then what fetching and ingesting took, not what preparing the test took.
 */
async function corpusTrustAnchor(): Promise<string> {
  if (!existsSync(join(CORPUS, 'complete')) || process.env.BENCH_REBUILD === '1') {
    const built = spawnSync(process.execPath, [fileURLToPath(import.meta.url), BUILD_CORPUS], {
      stdio: 'inherit',
    });
    if (built.status !== 0)
      throw new Error(`building the corpus failed (exit ${built.status ?? built.signal})`);
  }
  return readFile(join(CORPUS, 'ca.pem'), 'utf8');
}

async function buildCorpus(): Promise<void> {
  await rm(CORPUS, { recursive: true, force: true });
  await mkdir(CORPUS, { recursive: true });
  log(`bench:ingest building a ${MESSAGES}-message signed corpus in ${CORPUS} (once)`);
  const ca = createTestCa();
  const provider = createTestProvider(ca, { domain: 'pec.test' });
  const base = Date.UTC(2026, 9, 1, 8, 0, 0);
  for (let n = 0; n < MESSAGES; n++) {
    const attachments = isLarge(n)
      ? [
          {
            filename: `planimetria-${n}.pdf`,
            contentType: 'application/pdf',
            content: randomBytes(LARGE_BYTES),
          },
        ]
      : [
          {
            filename: `istanza-${n}.pdf`,
            contentType: 'application/pdf',
            content: randomBytes(2048 + (n % 7) * 1024),
          },
        ];
    const submission = prepareSubmission({
      provider,
      message: {
        from: `cittadino${n}@mittente.pec.test`,
        to: [USER],
        subject: `Istanza di accesso agli atti n. ${n}`,
        text: `Il sottoscritto chiede l'accesso agli atti del procedimento ${n}.\r\nDistinti saluti.\r\n`,
        date: new Date(base + n * 1000),
        attachments,
      },
    });
    await writeFile(
      join(CORPUS, `${String(n).padStart(6, '0')}.eml`),
      buildTransportEnvelope({ provider, submission }),
    );
  }
  await writeFile(join(CORPUS, 'ca.pem'), ca.certificatePem);
  await writeFile(join(CORPUS, 'complete'), '');
}

async function fillMailbox(dovecot: DovecotServer): Promise<number> {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.eml')).sort();
  for (let i = 0; i < files.length; i += 200) {
    const chunk = await Promise.all(files.slice(i, i + 200).map((f) => readFile(join(CORPUS, f))));
    await dovecot.deliver(USER, chunk);
  }
  return files.length;
}

interface FetchTiming {
  seconds: number;
  cpuSeconds: number;
  /** Dovecot's CPU seconds meanwhile; null off Linux. */
  dovecotCpu: number | null;
  count: number;
  bytes: number;
  loopDelay: IntervalHistogram;
}

/** How long the event loop was held (what an API request would wait), at 1 ms resolution. */
function watchLoopDelay(): IntervalHistogram {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return histogram;
}

function loopDelayText(histogram: IntervalHistogram): string {
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  return `median ${ms(histogram.percentile(50))} ms, 99th percentile ${ms(histogram.percentile(99))} ms, longest ${ms(histogram.max)} ms`;
}

/**
 * Every message's bytes over one imapflow connection, each handed to `each`; `finish` runs
 * inside the timing (what `each` left in flight).
 */
async function timedFetch(
  dovecot: DovecotServer,
  each: (source: Buffer) => Promise<void> | void = () => undefined,
  finish: () => Promise<void> = async () => undefined,
): Promise<FetchTiming> {
  const client = new ImapFlow({
    host: dovecot.host,
    port: dovecot.port,
    secure: false,
    auth: { user: USER, pass: PASSWORD },
    logger: false,
  });
  await client.connect();
  const dovecotStart = dovecotCpu(dovecot);
  const loopDelay = watchLoopDelay();
  const cpu = process.cpuUsage();
  const started = performance.now();
  let count = 0;
  let bytes = 0;
  const lock = await client.getMailboxLock('INBOX');
  try {
    for await (const message of client.fetch('1:*', { uid: true, source: true }, { uid: true })) {
      count += 1;
      bytes += message.source?.length ?? 0;
      // Awaited only when it is asynchronous: the raw baseline pays no extra tick per message.
      const pending = message.source && each(message.source);
      if (pending) await pending;
    }
    await finish();
  } finally {
    lock.release();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSince(cpu);
  loopDelay.disable();
  const dovecotSeconds = dovecotSince(dovecot, dovecotStart);
  await client.logout();
  return { seconds, cpuSeconds, dovecotCpu: dovecotSeconds, count, bytes, loopDelay };
}

/**
 * A second reference, for reading the ratio: the same fetch with each message written to the
 * blob store and flushed per 200, pipelined as the ingest's commits are (CommitChain, 3 batches
 * held); nothing parsed or committed. What storing alone costs here.
 */
async function fetchAndStore(dovecot: DovecotServer, dir: string): Promise<FetchTiming> {
  const blobs = new FileBlobStore(dir);
  const flushes = new CommitChain(3);
  let writes: Promise<unknown>[] = [];
  const flushBatch = () => {
    const batch = writes;
    writes = [];
    flushes.add(async () => {
      await Promise.all(batch);
      await blobs.flush();
    });
  };
  return timedFetch(
    dovecot,
    async (source) => {
      writes.push(blobs.put(source));
      if (writes.length < 200) return;
      flushBatch();
      await flushes.room();
    },
    async () => {
      flushBatch();
      await flushes.drained();
    },
  );
}

interface IngestRun {
  seconds: number;
  cpuSeconds: number;
  stored: number;
  threads: ThreadSplit;
  dovecotCpu: number | null;
  loopDelay: IntervalHistogram;
}

async function ingest(dovecot: DovecotServer, trustAnchorPem: string): Promise<IngestRun> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pectrack-bench-ingest-data-'));
  if (DATABASE === 'sqlite')
    return ingestInto(dovecot, trustAnchorPem, dataDir, {
      kind: 'sqlite',
      file: join(dataDir, 'pectrack.sqlite'),
    });
  return withPgDatabase('pectrack_bench_ingest', (url) =>
    ingestInto(dovecot, trustAnchorPem, dataDir, { kind: 'postgresql', url }),
  );
}

async function ingestInto(
  dovecot: DovecotServer,
  trustAnchorPem: string,
  dataDir: string,
  database: DatabaseConfig,
): Promise<IngestRun> {
  const config: RuntimeConfig = {
    dataDir,
    database,
    port: 0,
    logLevel: 'silent',
    tenant: 'default',
  };
  const runtime = await createRuntime(config);
  try {
    const ctx = createIntakeContext({
      orm: runtime.orm,
      blobs: new FileBlobStore(join(dataDir, 'blobs')),
      secretKey: randomBytes(32),
      trustAnchors: [trustAnchorPem],
      parseWorkers: PARSE_WORKERS,
    });
    const mailbox = await mailboxServices(ctx).create('default', {
      name: 'Protocollo',
      address: USER,
      imap: { host: dovecot.host, port: dovecot.port, tls: false, allowPlaintext: true },
      username: USER,
      password: PASSWORD,
    });
    const profile = await startProfile();
    const loopDelay = watchLoopDelay();
    const threadsBefore = threadCpu();
    const dovecotStart = dovecotCpu(dovecot);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const summary = await runMailboxSession(ctx, 'default', mailbox.id, { once: true });
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = cpuSince(cpu);
    loopDelay.disable();
    // Read before the parse workers are stopped: an exited thread leaves /proc.
    const threads = splitThreads(threadsBefore, threadCpu());
    const dovecotSeconds = dovecotSince(dovecot, dovecotStart);
    await profile.stop();
    await ctx.close();
    const [row] = await knexOf(runtime.orm)('message').count({ n: '*' });
    const stored = Number(row?.n ?? 0);
    if (summary.inserted !== stored)
      throw new Error(`ingested ${summary.inserted} but ${stored} rows are stored`);
    return { seconds, cpuSeconds, stored, threads, dovecotCpu: dovecotSeconds, loopDelay };
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * BENCH_PROFILE=<file.cpuprofile> records a CPU profile of the ingest alone (not the corpus
 * delivery nor the raw fetch), to open in Chrome DevTools.
 */
async function startProfile(): Promise<{ stop(): Promise<void> }> {
  const target = process.env.BENCH_PROFILE;
  if (!target) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      await writeFile(target, JSON.stringify(profile));
      session.disconnect();
      log(`bench:ingest CPU profile of the ingest written to ${target}`);
    },
  };
}

/**
 * What the ratio can be at best here: the raw fetch's CPU (this process and Dovecot) is spent by
 * any ingest through imapflow, and the parse workers' by any that parses every message with this
 * parser; shared by the cores with nothing else to do (no blob writes, no commits, no garbage
 * collection, never a core idle), they still take this long.
 */
function logFloor(raw: FetchTiming, parseCpu: number): void {
  if (raw.dovecotCpu === null || parseCpu === 0) return;
  const fetchCpu = raw.cpuSeconds + raw.dovecotCpu;
  const cores = availableParallelism();
  const floor = (fetchCpu + parseCpu) / cores;
  log(
    `bench:ingest floor on ${cores} cores: fetching takes ${fetchCpu.toFixed(1)} CPU-s (the raw fetch, Dovecot included) and parsing ${parseCpu.toFixed(1)}; even with storing, committing and garbage collection free and every core always busy, the ingest would take ${floor.toFixed(2)} s, ratio ${(floor / raw.seconds).toFixed(2)}`,
  );
}

async function main(): Promise<void> {
  const trustAnchorPem = await corpusTrustAnchor();
  // Removed only after the ingest: on ext4 without a journal (this machine) a new file
  // skips over every inode freed in the last seconds, so deleting the reference's 10,000 files
  // just before the ingest made each of its file creations several times dearer (perf: 70% of
  // the process's samples in the kernel's recently_deleted scan; 0.1-0.5 ms per create).
  const referenceDir = await mkdtemp(join(tmpdir(), 'pectrack-bench-store-'));
  try {
    await measure(trustAnchorPem, referenceDir);
  } finally {
    await rm(referenceDir, { recursive: true, force: true });
  }
}

async function measure(trustAnchorPem: string, referenceDir: string): Promise<void> {
  const dovecot = await startDovecot({ users: [{ user: USER, password: PASSWORD }] });
  try {
    const count = await fillMailbox(dovecot);
    phase = 'raw';
    const raw = await timedFetch(dovecot);
    phase = 'store';
    if (raw.count !== count) throw new Error(`raw fetch saw ${raw.count} of ${count} messages`);
    log(
      `bench:ingest raw imapflow fetch: ${raw.count} messages, ${(raw.bytes / 1048576).toFixed(0)} MB in ${raw.seconds.toFixed(1)} s, ${raw.cpuSeconds.toFixed(1)} s CPU in this process, Dovecot ${secondsText(raw.dovecotCpu)} (peak RSS while filling the mailbox ${mb(phasePeakRss.setup)} MB, during the fetch ${mb(phasePeakRss.raw)} MB)`,
    );
    const stored = await fetchAndStore(dovecot, referenceDir);
    phase = 'ingest';
    log(
      `bench:ingest reference, fetch + blob store only (no parse, no commit): ${stored.count} messages in ${stored.seconds.toFixed(1)} s, ${stored.cpuSeconds.toFixed(1)} s CPU in this process, Dovecot ${secondsText(stored.dovecotCpu)}, ratio to the raw fetch ${(stored.seconds / raw.seconds).toFixed(2)}`,
    );
    const ours = await ingest(dovecot, trustAnchorPem);
    if (ours.stored !== count) throw new Error(`ingest stored ${ours.stored} of ${count} messages`);
    log(
      `bench:ingest end to end (fetch, blob store, parse, commit to ${DATABASE}): ${ours.stored} messages in ${ours.seconds.toFixed(1)} s, ${ours.cpuSeconds.toFixed(1)} s CPU in this process with ${PARSE_WORKERS} parse worker(s) (peak RSS ${mb(peakRss)} MB, ${mb(phasePeakRss.ingest)} MB during the ingest)`,
    );
    const { main, started: workers, helpers } = ours.threads;
    const cpu = (t: ThreadCpu) => `${(t.user + t.system).toFixed(1)} s`;
    if (main.user + main.system > 0)
      log(
        `bench:ingest CPU of the ingest by thread: main ${cpu(main)} (${main.system.toFixed(1)} s of it system; IMAP, blob writes, commits), parse worker(s) ${cpu(workers)}, V8 GC and compiler helpers ${helpers.user.toFixed(1)} s user, libuv file I/O pool ${helpers.system.toFixed(1)} s system (the helper threads' user and system time), Dovecot ${secondsText(ours.dovecotCpu)}; ${availableParallelism()} cores`,
      );
    logFloor(raw, workers.user + workers.system);
    log(
      `bench:ingest event-loop delay: ingest ${loopDelayText(ours.loopDelay)}; raw fetch ${loopDelayText(raw.loopDelay)}`,
    );
    clearInterval(sampler);
    const rate = ours.stored / ours.seconds;
    const rawRate = raw.count / raw.seconds;
    log(
      `bench:ingest messages=${ours.stored} rate=${rate.toFixed(0)}/s raw_rate=${rawRate.toFixed(0)}/s ratio=${(ours.seconds / raw.seconds).toFixed(2)} peak_rss_mb=${mb(peakRss)}`,
    );
  } finally {
    await dovecot.close();
  }
}

if (process.argv.includes(BUILD_CORPUS)) {
  clearInterval(sampler);
  await buildCorpus();
} else await main();
