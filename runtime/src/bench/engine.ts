/**
 * `npm run bench:engine`: start → user task → complete → exclusive gateway → end through
 * the services layer, every wait state committed, on SQLite and on PostgreSQL; and the
 * same diagram on bpmn-engine in memory as the baseline. The last line is the summary.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseConfig, RuntimeConfig } from '../config.js';
import { createRuntime } from '../runtime.js';
import type { Actor } from '../services/types.js';
import { inLanes, runBpmnEngine } from './bpmn-engine.js';
import { PECTRACK_DIAGRAM } from './diagrams.js';
import { PG_ADMIN_URL, withPgDatabase } from './pg-database.js';

const actor: Actor = { tenantId: 'default', userId: 'bench', username: 'bench', roles: ['admin'] };
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 20_000);
const WARMUP = 1_000;

async function runServices(database: DatabaseConfig, dataDir: string): Promise<number> {
  const config: RuntimeConfig = {
    dataDir,
    database,
    port: 0,
    logLevel: 'silent',
    tenant: 'default',
  };
  const runtime = await createRuntime(config);
  try {
    const { services } = runtime;
    await services.definitions.deploy(actor, {
      name: 'bench',
      files: [{ filename: 'bench.bpmn', xml: PECTRACK_DIAGRAM }],
    });
    const oneInstance = async (i: number): Promise<void> => {
      const instance = await services.instances.start(actor, {
        definitionKey: 'bench-approval',
        variables: { n: i },
      });
      await services.tasks.complete(actor, instance.tasks[0]!.id, { approved: i % 2 === 0 });
    };
    await inParallel(WARMUP, oneInstance);
    const started = performance.now();
    await inParallel(INSTANCES, oneInstance);
    const rate = INSTANCES / ((performance.now() - started) / 1000);
    const ended = await services.instances.list(actor, { status: 'completed', limit: 1 });
    if (!ended.length) throw new Error('no instance completed');
    return rate;
  } finally {
    await runtime.stop();
  }
}

/** CONCURRENCY lanes: what concurrent API clients look like to the services. */
const inParallel = (count: number, job: (i: number) => Promise<void>): Promise<void> =>
  inLanes(count, CONCURRENCY, job);

async function sqlite(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'pectrack-bench-'));
  try {
    return await runServices({ kind: 'sqlite', file: join(dir, 'pectrack.sqlite') }, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function postgresql(): Promise<number | null> {
  const dir = await mkdtemp(join(tmpdir(), 'pectrack-bench-'));
  try {
    return await withPgDatabase('pectrack_bench', (url) =>
      runServices({ kind: 'postgresql', url }, dir),
    );
  } catch (error) {
    if (!isUnreachable(error)) throw error;
    console.warn(
      `!!! PostgreSQL at ${PG_ADMIN_URL} is not reachable (${(error as Error).message}): skipped`,
    );
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** No server to create the database on: the PostgreSQL run is skipped, not failed. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || /timeout/i.test(String(error));
}

const round = (n: number): number => Math.round(n);

const sqliteRate = await sqlite();
console.log(
  `sqlite: ${round(sqliteRate)} instances/s (${INSTANCES} instances, ${CONCURRENCY} concurrent clients)`,
);
globalThis.gc?.();
const pgRate = await postgresql();
console.log(`postgresql: ${pgRate === null ? 'skipped' : `${round(pgRate)} instances/s`}`);
globalThis.gc?.();
const engineRate = await runBpmnEngine(Math.min(INSTANCES, 2_000), CONCURRENCY);
console.log(`bpmn-engine: ${round(engineRate)} instances/s (in memory, nothing persisted)`);
const peakRssMb = process.resourceUsage().maxRSS / 1024;
console.log(
  `bench:engine sqlite=${round(sqliteRate)}/s postgresql=${pgRate === null ? 0 : round(pgRate)}/s ` +
    `bpmn-engine=${round(engineRate)}/s sqlite_vs_bpmn_engine=${(sqliteRate / engineRate).toFixed(1)} ` +
    `peak_rss_mb=${round(peakRssMb)}`,
);
