/**
 * The scheduler: Agenda 6 on the runtime's database (PostgreSQL backend, or our SQLite
 * backend on the same file), the timer and connector jobs, and the outbox dispatcher.
 */
import { Agenda, type AgendaBackend } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type { Knex } from '@mikro-orm/knex';
import type { DatabaseConfig } from '../config.js';
import type { InternalCommands } from '../services/index.js';
import { knexOf, type Orm } from '../store/orm.js';
import type { ConnectorRegistry } from './connectors.js';
import { defineJobs } from './jobs.js';
import { scheduleHousekeeping } from './housekeeping.js';
import { OutboxDispatcher } from './outbox-dispatcher.js';
import { SqliteBackend } from './sqlite-backend.js';

export * from './connectors.js';
export { CONNECTOR_JOB, TIMER_JOB } from './jobs.js';

export interface SchedulerSettings {
  /** How often Agenda looks for due jobs. */
  processEveryMs: number;
  /** After this long a job locked by a dead process is run again. */
  lockLifetimeMs: number;
  connectorTimeoutMs: number;
  connectorAttempts: number;
  connectorBackoffMs: number;
  outboxPollMs: number;
  outboxLeaseMs: number;
  /** Delivered outbox rows and finished connector jobs are deleted after this long. */
  retentionMs: number;
}

export const DEFAULT_SCHEDULER_SETTINGS: SchedulerSettings = {
  processEveryMs: 1_000,
  lockLifetimeMs: 60_000,
  connectorTimeoutMs: 30_000,
  connectorAttempts: 5,
  connectorBackoffMs: 2_000,
  outboxPollMs: 1_000,
  outboxLeaseMs: 30_000,
  retentionMs: 7 * 24 * 3_600_000,
};

export interface Scheduler {
  /** The Agenda instance; it exists (and holds database connections) only while started. */
  readonly agenda: Agenda;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Wakes the outbox dispatcher (after a commit that wrote outbox rows). */
  wake(): void;
}

export function createScheduler(options: {
  orm: Orm;
  database: DatabaseConfig;
  internal: InternalCommands;
  connectors: ConnectorRegistry;
  settings?: Partial<SchedulerSettings>;
}): Scheduler {
  const settings = { ...DEFAULT_SCHEDULER_SETTINGS, ...options.settings };
  const knex = knexOf(options.orm);
  let running: { agenda: Agenda; dispatcher: OutboxDispatcher } | undefined;
  return {
    get agenda() {
      if (!running) throw new Error('the scheduler is not started');
      return running.agenda;
    },
    async start() {
      if (running) return;
      // Agenda connects its backend as soon as it is constructed, so it is built only here.
      const agenda = new Agenda({
        backend: backendFor(options.database, knex),
        name: `pectrack-${process.pid}`,
        processEvery: settings.processEveryMs,
        defaultLockLifetime: settings.lockLifetimeMs,
      });
      defineJobs(agenda, options.internal, options.connectors, settings);
      const dispatcher = new OutboxDispatcher(knex, options.database, agenda, {
        pollMs: settings.outboxPollMs,
        leaseMs: settings.outboxLeaseMs,
        maxAttempts: 10,
      });
      await agenda.start();
      await scheduleHousekeeping(agenda, options.orm, options.internal, settings.retentionMs);
      dispatcher.start();
      running = { agenda, dispatcher };
    },
    async stop() {
      if (!running) return;
      const { agenda, dispatcher } = running;
      running = undefined;
      await dispatcher.stop();
      // Agenda's stop() would leave a running connector job locked with nobody to record its
      // answer: another node would run it, and call the connector, again once its lock expired.
      // drain() takes no more jobs and waits for the running ones before letting go of the
      // database; one still running after the timeout is left to that expiry.
      await agenda.drain({ timeout: settings.connectorTimeoutMs + DRAIN_MARGIN_MS });
    },
    wake: () => running?.dispatcher.wake(),
  };
}

/** Past the connector timeout: time for a timed-out call to record its failure. */
const DRAIN_MARGIN_MS = 5_000;

function backendFor(database: DatabaseConfig, knex: Knex): AgendaBackend {
  return database.kind === 'postgresql'
    ? new PostgresBackend({ connectionString: database.url })
    : new SqliteBackend(knex);
}
