/**
 * Drains committed outbox rows into Agenda jobs (timers, connector calls). A row is
 * claimed with a lease, turned into a job that is unique by the row's idempotency key,
 * then marked done; a crash anywhere in between leaves the row to be claimed again when
 * its lease runs out, and the unique key makes that second pass a no-op.
 */
import type { Agenda } from 'agenda';
import type { Knex } from '@mikro-orm/knex';
import type { DatabaseConfig } from '../config.js';
import type { Outbox } from '../store/entities/index.js';
import { DISPATCHED_OUTBOX_KINDS } from '../store/entities/outbox.js';
import { CONNECTOR_JOB, TIMER_JOB, type ConnectorJobData, type TimerJobData } from './jobs.js';

const BATCH = 100;

export interface DispatcherSettings {
  pollMs: number;
  leaseMs: number;
  maxAttempts: number;
}

type OutboxRow = Pick<Outbox, 'id' | 'kind' | 'idempotencyKey' | 'attempts'> & {
  payload: Record<string, unknown>;
};

export class OutboxDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly knex: Knex,
    private readonly database: DatabaseConfig,
    private readonly agenda: Agenda,
    private readonly settings: DispatcherSettings,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.settings.pollMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.draining;
  }

  /** Called after a commit that wrote outbox rows, and on every poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      for (let rows = await this.claim(); rows.length && !this.stopped; rows = await this.claim()) {
        for (const row of rows) await this.dispatchOne(row);
      }
    } catch (error) {
      // The database may be briefly unavailable; the next poll tries again.
      process.emitWarning(`outbox drain failed: ${(error as Error).message}`);
    }
  }

  private async dispatchOne(row: OutboxRow): Promise<void> {
    try {
      await this.dispatch(row);
      await this.knex('outbox')
        .where({ id: row.id })
        .update({ status: 'done', done_at: this.time(new Date()), locked_until: null });
    } catch (error) {
      const attempts = row.attempts + 1;
      const delay = Math.min(60_000, 500 * 2 ** attempts);
      await this.knex('outbox')
        .where({ id: row.id })
        .update({
          status: attempts >= this.settings.maxAttempts ? 'failed' : 'pending',
          attempts,
          last_error: (error as Error).message,
          next_attempt_at: this.time(new Date(Date.now() + delay)),
          locked_until: null,
        });
    }
  }

  private async dispatch(row: OutboxRow): Promise<void> {
    const p = row.payload;
    switch (row.kind) {
      case 'scheduleTimer': {
        const data: TimerJobData = {
          key: row.idempotencyKey,
          timer: `${p.instanceId}:${p.timerRef}`,
          tenantId: p.tenantId as string,
          instanceId: p.instanceId as string,
          timerRef: p.timerRef as string,
        };
        await this.agenda
          .create(TIMER_JOB, data)
          .unique({ 'data.key': data.key }, { insertOnly: true })
          .schedule(new Date(p.dueAt as string))
          .save();
        return;
      }
      case 'cancelTimer':
        await this.agenda.cancel({
          name: TIMER_JOB,
          data: { timer: `${p.instanceId}:${p.timerRef}` },
        });
        return;
      case 'invokeConnector': {
        const data: ConnectorJobData = {
          key: row.idempotencyKey,
          tenantId: p.tenantId as string,
          instanceId: p.instanceId as string,
          jobRef: p.jobRef as string,
          retries: p.retries as number | undefined,
          elementId: p.elementId as string,
          connectorType: p.connectorType as string,
          input: (p.input ?? {}) as Record<string, unknown>,
        };
        await this.agenda
          .create(CONNECTOR_JOB, data)
          .unique({ 'data.key': data.key }, { insertOnly: true })
          .schedule(new Date())
          .save();
        return;
      }
    }
  }

  /** Due pending rows and rows whose claimer died (lease expired), oldest first. */
  private async claim(): Promise<OutboxRow[]> {
    const now = new Date();
    return this.knex.transaction(async (trx) => {
      let query = trx('outbox')
        .select('id', 'kind', 'payload', 'idempotency_key', 'attempts')
        .whereIn('kind', DISPATCHED_OUTBOX_KINDS)
        .andWhere((due) =>
          due
            .where((q) =>
              q.where('status', 'pending').andWhere('next_attempt_at', '<=', this.time(now)),
            )
            .orWhere((q) =>
              q.where('status', 'running').andWhere('locked_until', '<', this.time(now)),
            ),
        )
        .orderBy('id')
        .limit(BATCH);
      if (this.database.kind === 'postgresql') query = query.forUpdate().skipLocked();
      const rows = (await query) as {
        id: number;
        kind: Outbox['kind'];
        payload: unknown;
        idempotency_key: string;
        attempts: number;
      }[];
      if (rows.length) {
        await trx('outbox')
          .whereIn(
            'id',
            rows.map((r) => r.id),
          )
          .update({
            status: 'running',
            locked_until: this.time(new Date(now.getTime() + this.settings.leaseMs)),
          });
      }
      return rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        idempotencyKey: r.idempotency_key,
        attempts: r.attempts,
        payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<
          string,
          unknown
        >,
      }));
    });
  }

  /** SQLite keeps the ORM's dates as epoch milliseconds; PostgreSQL takes timestamps. */
  private time(date: Date): Date | number {
    return this.database.kind === 'sqlite' ? date.getTime() : date;
  }
}
