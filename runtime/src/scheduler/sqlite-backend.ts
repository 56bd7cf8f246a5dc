/**
 * Agenda's storage on our SQLite file (ARCHITECTURE §4): a JobRepository over the same
 * better-sqlite3 connection the ORM uses. Statements run synchronously on that one
 * connection, so "find and lock" is atomic within the process, and SQLite's write lock
 * makes it atomic across processes sharing the file. Dates are epoch milliseconds, like
 * the ORM stores them on SQLite.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Knex } from '@mikro-orm/knex';
import {
  computeJobState,
  InMemoryNotificationChannel,
  toJobId,
  type AgendaBackend,
  type JobId,
  type JobParameters,
  type JobRepository,
  type JobRepositoryOptions,
  type JobsOverview,
  type JobsQueryOptions,
  type JobsResult,
  type JobsSort,
  type NotificationChannel,
  type RemoveJobsOptions,
} from 'agenda';

const TABLE = 'agenda_jobs';

const SCHEMA = [
  `create table if not exists ${TABLE} (
     id text primary key,
     name text not null,
     priority integer not null default 0,
     next_run_at integer,
     type text not null default 'normal' check (type in ('normal', 'single')),
     locked_at integer,
     last_finished_at integer,
     failed_at integer,
     fail_count integer,
     fail_reason text,
     repeat_timezone text,
     last_run_at integer,
     repeat_interval text,
     data text not null default '{}',
     repeat_at text,
     disabled integer not null default 0,
     progress real,
     fork integer not null default 0,
     last_modified_by text,
     debounce_started_at integer,
     start_date integer,
     end_date integer,
     skip_days text
   )`,
  `create index if not exists ${TABLE}_find_and_lock on ${TABLE} (name, next_run_at, priority desc, locked_at, disabled)`,
  `create unique index if not exists ${TABLE}_single_job on ${TABLE} (name) where type = 'single'`,
];

/** Columns a job's `unique` constraint may name directly (anything else must be `data.<path>`). */
const UNIQUE_COLUMNS = new Set([
  'name',
  'priority',
  'type',
  'repeat_interval',
  'repeat_at',
  'disabled',
]);

type Row = Record<string, unknown>;

const ms = (date: Date | null | undefined): number | null => (date ? date.getTime() : null);
const date = (value: unknown): Date | undefined =>
  value === null || value === undefined ? undefined : new Date(value as number);

export class SqliteBackend implements AgendaBackend {
  readonly name = 'SQLite';
  readonly repository: SqliteJobRepository;
  readonly notificationChannel: NotificationChannel = new InMemoryNotificationChannel();
  readonly ownsConnection = false;

  constructor(knex: Knex) {
    this.repository = new SqliteJobRepository(knex);
  }

  async connect(): Promise<void> {
    await this.repository.connect();
  }

  async disconnect(): Promise<void> {
    // The connection belongs to the ORM, which closes it.
  }
}

export class SqliteJobRepository implements JobRepository {
  constructor(private readonly knex: Knex) {}

  async connect(): Promise<void> {
    await this.run((db) => SCHEMA.forEach((sql) => db.exec(sql)));
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const { state, skip = 0, limit = 0 } = options;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = condition(where, params);
    if (options.name) add('name = ?', options.name);
    else if (options.names?.length) add(`name in (${marks(options.names)})`, ...options.names);
    if (options.id) add('id = ?', options.id);
    else if (options.ids?.length) add(`id in (${marks(options.ids)})`, ...options.ids);
    if (options.search) add('name like ?', `%${options.search}%`);
    if (options.data !== undefined) dataConditions(options.data, where, params);
    if (options.includeDisabled === false) where.push('disabled = 0');
    const rows = await this.all(
      `select * from ${TABLE} ${clause(where)} order by ${orderBy(options.sort)}`,
      params,
    );
    const now = new Date();
    const jobs = rows
      .map((row) => {
        const job = toJob(row);
        return { ...job, _id: job._id!, state: computeJobState(job, now) };
      })
      .filter(
        (job) => !state || (state === 'paused' ? job.disabled === true : job.state === state),
      );
    return {
      jobs: limit > 0 ? jobs.slice(skip, skip + limit) : jobs.slice(skip),
      total: jobs.length,
    };
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const { jobs } = await this.queryJobs();
    const byName = new Map<string, JobsOverview>();
    for (const job of jobs) {
      const overview = byName.get(job.name) ?? {
        name: job.name,
        total: 0,
        running: 0,
        scheduled: 0,
        queued: 0,
        completed: 0,
        failed: 0,
        repeating: 0,
        paused: 0,
      };
      overview.total++;
      overview[job.state]++;
      if (job.disabled && job.state !== 'paused') overview.paused++;
      byName.set(job.name, overview);
    }
    return [...byName.values()];
  }

  async getDistinctJobNames(): Promise<string[]> {
    return (await this.all(`select distinct name from ${TABLE} order by name`, [])).map(
      (r) => r.name as string,
    );
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const [row] = await this.all(`select * from ${TABLE} where id = ?`, [id]);
    return row ? toJob(row) : null;
  }

  async getQueueSize(): Promise<number> {
    const [row] = await this.all(`select count(*) as n from ${TABLE} where next_run_at < ?`, [
      Date.now(),
    ]);
    return row!.n as number;
  }

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    const filter = removeFilter(options);
    return filter ? this.change(`delete from ${TABLE} where ${filter.where}`, filter.params) : 0;
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    const filter = removeFilter(options);
    return filter
      ? this.change(`update ${TABLE} set disabled = 1 where ${filter.where}`, filter.params)
      : 0;
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    const filter = removeFilter(options);
    return filter
      ? this.change(`update ${TABLE} set disabled = 0 where ${filter.where}`, filter.params)
      : 0;
  }

  async purgeAllJobs(): Promise<number> {
    return this.change(`delete from ${TABLE}`, []);
  }

  async saveJob<DATA = unknown>(
    job: JobParameters<DATA>,
    options?: JobRepositoryOptions,
  ): Promise<JobParameters<DATA>> {
    const by = options?.lastModifiedBy ?? null;
    const saved = await this.run((db) => {
      if (job._id) return updateById(db, job, by) ?? (job as JobParameters);
      if (job.type === 'single') return upsertSingle(db, job, by);
      if (job.unique) return upsertUnique(db, job, by);
      return insert(db, job, by);
    });
    return saved as JobParameters<DATA>;
  }

  async saveJobState(job: JobParameters, options?: JobRepositoryOptions): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const changed = await this.change(
      `update ${TABLE} set locked_at = ?, next_run_at = ?, last_run_at = ?, progress = ?, fail_reason = ?, fail_count = ?,
         failed_at = ?, last_finished_at = ?, last_modified_by = ? where id = ? and name = ?`,
      [
        ms(job.lockedAt),
        ms(job.nextRunAt),
        ms(job.lastRunAt),
        job.progress ?? null,
        job.failReason ?? null,
        job.failCount ?? null,
        ms(job.failedAt),
        ms(job.lastFinishedAt),
        options?.lastModifiedBy ?? null,
        job._id,
        job.name,
      ],
    );
    if (changed !== 1) {
      throw new Error(
        `job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`,
      );
    }
  }

  async lockJob(
    job: JobParameters,
    options?: JobRepositoryOptions,
  ): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const [row] = await this.all(
      `update ${TABLE} set locked_at = ?, last_modified_by = ?
       where id = ? and name = ? and locked_at is null and next_run_at = ? and disabled = 0 returning *`,
      [Date.now(), options?.lastModifiedBy ?? null, job._id, job.name, ms(job.nextRunAt)],
    );
    return row ? toJob(row) : undefined;
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (job._id)
      await this.change(
        `update ${TABLE} set locked_at = null where id = ? and next_run_at is not null`,
        [job._id],
      );
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    if (!jobIds.length) return;
    await this.change(
      `update ${TABLE} set locked_at = null where id in (${marks(jobIds)}) and next_run_at is not null`,
      jobIds,
    );
  }

  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const [row] = await this.all(
      `update ${TABLE} set locked_at = ?, last_modified_by = ?
       where id = (
         select id from ${TABLE}
         where name = ? and disabled = 0 and ((locked_at is null and next_run_at <= ?) or locked_at <= ?)
         order by next_run_at asc nulls last, priority desc limit 1)
       returning *`,
      [
        ms(now ?? new Date()),
        options?.lastModifiedBy ?? null,
        jobName,
        ms(nextScanAt),
        ms(lockDeadline),
      ],
    );
    return row ? toJob(row) : undefined;
  }

  private all(sql: string, params: unknown[]): Promise<Row[]> {
    return this.run((db) => db.prepare(sql).all(...params) as Row[]);
  }

  private change(sql: string, params: unknown[]): Promise<number> {
    return this.run((db) => db.prepare(sql).run(...params).changes);
  }

  /** Borrows the ORM's connection (knex pool of one), so ORM transactions are never interleaved. */
  private async run<T>(work: (db: Database) => T): Promise<T> {
    const db = (await this.knex.client.acquireConnection()) as Database;
    try {
      return work(db);
    } finally {
      await this.knex.client.releaseConnection(db);
    }
  }
}

const COLUMNS = [
  'id',
  'name',
  'priority',
  'next_run_at',
  'type',
  'repeat_timezone',
  'repeat_interval',
  'data',
  'repeat_at',
  'disabled',
  'fork',
  'last_modified_by',
  'start_date',
  'end_date',
  'skip_days',
  'fail_reason',
  'fail_count',
  'failed_at',
];

function values(job: JobParameters, by: string | null, id: string): unknown[] {
  return [
    id,
    job.name,
    job.priority ?? 0,
    ms(job.nextRunAt),
    job.type ?? 'normal',
    job.repeatTimezone ?? null,
    job.repeatInterval === undefined ? null : String(job.repeatInterval),
    JSON.stringify(job.data ?? {}),
    job.repeatAt ?? null,
    job.disabled ? 1 : 0,
    job.fork ? 1 : 0,
    by,
    ms(job.startDate),
    ms(job.endDate),
    job.skipDays ? JSON.stringify(job.skipDays) : null,
    job.failReason ?? null,
    job.failCount ?? null,
    ms(job.failedAt),
  ];
}

function insert(db: Database, job: JobParameters, by: string | null): JobParameters {
  const row = db
    .prepare(`insert into ${TABLE} (${COLUMNS.join(', ')}) values (${marks(COLUMNS)}) returning *`)
    .get(...values(job, by, randomUUID())) as Row;
  return toJob(row);
}

function updateById(
  db: Database,
  job: JobParameters,
  by: string | null,
): JobParameters | undefined {
  const set = COLUMNS.slice(1)
    .map((c) => `${c} = ?`)
    .join(', ');
  const [id, ...rest] = values(job, by, job._id!);
  const row = db
    .prepare(`update ${TABLE} set ${set} where id = ? and name = ? returning *`)
    .get(...rest, id, job.name) as Row | undefined;
  return row ? toJob(row) : undefined;
}

/** `every()` jobs: one row per name. A due run is not pushed back by a re-save. */
function upsertSingle(db: Database, job: JobParameters, by: string | null): JobParameters {
  const existing = db
    .prepare(`select * from ${TABLE} where name = ? and type = 'single'`)
    .get(job.name) as Row | undefined;
  if (!existing) return insert(db, job, by);
  const protect = job.nextRunAt && job.nextRunAt <= new Date() && existing.next_run_at !== null;
  const nextRunAt = protect ? date(existing.next_run_at)! : job.nextRunAt;
  return updateById(db, { ...job, nextRunAt, _id: toJobId(existing.id as string) }, by)!;
}

function upsertUnique(db: Database, job: JobParameters, by: string | null): JobParameters {
  if (job.uniqueOpts?.debounce)
    throw new Error('the SQLite Agenda backend does not support debounced jobs');
  const where = ['name = ?'];
  const params: unknown[] = [job.name];
  for (const [key, value] of Object.entries(job.unique!)) {
    if (key.startsWith('data.')) {
      where.push(`json_extract(data, ?) = ?`);
      params.push(`$.${key.slice(5)}`, value);
    } else {
      const column = key.replace(/([A-Z])/g, '_$1').toLowerCase();
      if (!UNIQUE_COLUMNS.has(column)) throw new Error(`Invalid unique constraint field: "${key}"`);
      where.push(`${column} = ?`);
      params.push(value);
    }
  }
  const existing = db
    .prepare(`select * from ${TABLE} where ${where.join(' and ')} limit 1`)
    .get(...params) as Row | undefined;
  if (!existing) return insert(db, job, by);
  if (job.uniqueOpts?.insertOnly) return toJob(existing);
  return updateById(db, { ...job, _id: toJobId(existing.id as string) }, by)!;
}

function toJob(row: Row): JobParameters {
  return {
    _id: toJobId(row.id as string),
    name: row.name as string,
    priority: row.priority as number,
    nextRunAt: date(row.next_run_at) ?? null,
    type: row.type as 'normal' | 'single',
    lockedAt: date(row.locked_at),
    lastFinishedAt: date(row.last_finished_at),
    failedAt: date(row.failed_at),
    failCount: (row.fail_count as number | null) ?? undefined,
    failReason: (row.fail_reason as string | null) ?? undefined,
    repeatTimezone: (row.repeat_timezone as string | null) ?? undefined,
    lastRunAt: date(row.last_run_at),
    repeatInterval: (row.repeat_interval as string | null) ?? undefined,
    data: JSON.parse(row.data as string),
    repeatAt: (row.repeat_at as string | null) ?? undefined,
    disabled: row.disabled === 1,
    progress: (row.progress as number | null) ?? undefined,
    fork: row.fork === 1,
    lastModifiedBy: (row.last_modified_by as string | null) ?? undefined,
    debounceStartedAt: date(row.debounce_started_at),
    startDate: date(row.start_date),
    endDate: date(row.end_date),
    skipDays: row.skip_days ? (JSON.parse(row.skip_days as string) as number[]) : undefined,
  };
}

function removeFilter(options: RemoveJobsOptions): { where: string; params: unknown[] } | null {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = condition(where, params);
  if (options.id) add('id = ?', String(options.id));
  else if (options.ids?.length) add(`id in (${marks(options.ids)})`, ...options.ids.map(String));
  if (options.name) add('name = ?', options.name);
  else if (options.names?.length) add(`name in (${marks(options.names)})`, ...options.names);
  else if (options.notNames?.length)
    add(`name not in (${marks(options.notNames)})`, ...options.notNames);
  if (options.data !== undefined) dataConditions(options.data, where, params);
  return where.length ? { where: where.join(' and '), params } : null;
}

/** Partial match on the job's data, as PostgreSQL's `data @> $1` does for top-level fields. */
function dataConditions(data: unknown, where: string[], params: unknown[]): void {
  if (data === null || typeof data !== 'object') {
    where.push('data = ?');
    params.push(JSON.stringify(data));
    return;
  }
  for (const [key, value] of Object.entries(data)) {
    if (value !== null && typeof value === 'object') {
      where.push(`json_extract(data, ?) = json(?)`);
      params.push(`$.${key}`, JSON.stringify(value));
    } else {
      where.push(`json_extract(data, ?) = ?`);
      params.push(`$.${key}`, typeof value === 'boolean' ? Number(value) : value);
    }
  }
}

function orderBy(sort: JobsSort | undefined): string {
  const parts: string[] = [];
  const dir = (d: string) => (d === 'asc' ? 'asc' : 'desc');
  if (sort?.nextRunAt) parts.push(`next_run_at ${dir(sort.nextRunAt)} nulls last`);
  if (sort?.lastRunAt) parts.push(`last_run_at ${dir(sort.lastRunAt)} nulls last`);
  if (sort?.lastFinishedAt) parts.push(`last_finished_at ${dir(sort.lastFinishedAt)} nulls last`);
  if (sort?.priority) parts.push(`priority ${dir(sort.priority)}`);
  if (sort?.name) parts.push(`name ${dir(sort.name)}`);
  return parts.length
    ? parts.join(', ')
    : 'next_run_at desc nulls last, last_run_at desc nulls last';
}

const condition =
  (where: string[], params: unknown[]) =>
  (sql: string, ...values: unknown[]): void => {
    where.push(sql);
    params.push(...values);
  };
const marks = (items: readonly unknown[]): string => items.map(() => '?').join(', ');
const clause = (where: string[]): string => (where.length ? `where ${where.join(' and ')}` : '');
