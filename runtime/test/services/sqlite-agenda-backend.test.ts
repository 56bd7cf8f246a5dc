/** Agenda's JobRepository on our SQLite file: what the scheduler relies on for "fires once". */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJobId, type JobParameters } from 'agenda';
import { SqliteJobRepository } from '../../src/scheduler/sqlite-backend.js';
import { knexOf, migrate, openOrm, type Orm } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';

const [sqlite] = (await testDatabases()).filter((d) => d.kind === 'sqlite');

const job = (
  name: string,
  data: Record<string, unknown>,
  nextRunAt = new Date(Date.now() - 1_000),
): JobParameters => ({
  name,
  priority: 0,
  nextRunAt,
  type: 'normal',
  data,
});

describe('SQLite Agenda backend', () => {
  let drop: () => Promise<void>;
  const orms: Orm[] = [];
  const repositories: SqliteJobRepository[] = [];

  beforeAll(async () => {
    const created = await sqlite!.create();
    drop = created.drop;
    // Two processes' worth of connections to the same file.
    for (let i = 0; i < 2; i++) {
      const orm = await openOrm(created.config.database);
      if (i === 0) await migrate(orm);
      const repository = new SqliteJobRepository(knexOf(orm));
      await repository.connect();
      orms.push(orm);
      repositories.push(repository);
    }
  });
  afterAll(async () => {
    for (const orm of orms) await orm.close();
    await drop?.();
  });

  it('keeps one job per unique key when the same timer is saved twice (insertOnly)', async () => {
    const [a, b] = repositories as [SqliteJobRepository, SqliteJobRepository];
    const timer = {
      ...job('unique', { key: 'schedule:i1:tm1:2' }),
      unique: { 'data.key': 'schedule:i1:tm1:2' },
      uniqueOpts: { insertOnly: true },
    };
    const first = await a.saveJob(timer, undefined);
    const second = await b.saveJob(
      { ...timer, data: { key: 'schedule:i1:tm1:2', changed: true } },
      undefined,
    );
    expect(second._id).toBe(first._id);
    expect(second.data).toEqual({ key: 'schedule:i1:tm1:2' });
    expect((await a.queryJobs({ data: { key: 'schedule:i1:tm1:2' } })).total).toBe(1);
  });

  it('hands a due job to exactly one of two competing workers, and to another after its lock expired', async () => {
    const [a, b] = repositories as [SqliteJobRepository, SqliteJobRepository];
    const saved = await a.saveJob(job('race', { key: 'race' }), undefined);
    const now = new Date();
    const lockDeadline = new Date(now.getTime() - 60_000);
    const [gotA, gotB] = await Promise.all([
      a.getNextJobToRun('race', now, lockDeadline, now, undefined),
      b.getNextJobToRun('race', now, lockDeadline, now, undefined),
    ]);
    const winners = [gotA, gotB].filter((j) => j?._id === saved._id);
    expect(winners).toHaveLength(1);
    expect(await b.getNextJobToRun('race', now, lockDeadline, now, undefined)).toBeUndefined();

    const later = new Date(now.getTime() + 120_000);
    const retaken = await b.getNextJobToRun(
      'race',
      later,
      new Date(later.getTime() - 60_000),
      later,
      undefined,
    );
    expect(retaken?._id).toBe(saved._id);
  });

  it('removes jobs by a data field, as cancelTimer does', async () => {
    const [a] = repositories as [SqliteJobRepository];
    await a.saveJob(job('pectrack.timer', { timer: 'i2:tm1', key: 'k1' }), undefined);
    await a.saveJob(job('pectrack.timer', { timer: 'i2:tm2', key: 'k2' }), undefined);
    expect(await a.removeJobs({ name: 'pectrack.timer', data: { timer: 'i2:tm1' } })).toBe(1);
    expect((await a.queryJobs({ data: { timer: 'i2:tm2' } })).jobs.map((j) => j.data)).toEqual([
      { timer: 'i2:tm2', key: 'k2' },
    ]);
    expect(await a.getJobById(toJobId('no-such-id'))).toBeNull();
  });
});
