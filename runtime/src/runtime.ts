/**
 * Wires one PECtrack runtime: database (migrated at start-up), services, scheduler.
 * The CLI's `serve` and the tests build on this.
 */
import { intakeSettingsOf, type RuntimeConfig } from './config.js';
import { createIntake, type Intake } from './intake/index.js';
import { intakeContextFor } from './intake/setup.js';
import type { IntakeLogger } from './intake/context.js';
import {
  ConnectorRegistry,
  createScheduler,
  type ConnectorHandler,
  type Scheduler,
  type SchedulerSettings,
} from './scheduler/index.js';
import { createServices, type InternalCommands, type Services } from './services/index.js';
import { migrate, openOrm, type Orm } from './store/orm.js';
import { ensureTenant } from './store/tenants.js';

export interface RuntimeOptions {
  /** Connector handlers by type, added to the registry before start. */
  connectors?: Record<string, ConnectorHandler>;
  scheduler?: Partial<SchedulerSettings>;
  /**
   * Where the intake reports mailbox failures and messages stored as unparseable, and the
   * services what they could not do after a commit (pino fits).
   */
  log?: IntakeLogger;
}

export interface Runtime {
  config: RuntimeConfig;
  orm: Orm;
  services: Services;
  /** Commands the runtime issues to itself (timers, connector results). */
  internal: InternalCommands;
  connectors: ConnectorRegistry;
  scheduler: Scheduler;
  /** PEC mailboxes, messages and sending; mailboxes are watched once the runtime has started. */
  readonly intake: Intake;
  /** Starts the scheduler: timers fire, the outbox drains, connectors are called. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `pectrack migrate`: brings the database schema up to date and reports the migrations applied. */
export async function migrateDatabase(config: RuntimeConfig): Promise<string[]> {
  const orm = await openOrm(config.database);
  try {
    const applied = await migrate(orm);
    await ensureTenant(orm, config.tenant);
    return applied;
  } finally {
    await orm.close();
  }
}

export async function createRuntime(
  config: RuntimeConfig,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  const orm = await openOrm(config.database);
  try {
    await migrate(orm);
    await ensureTenant(orm, config.tenant);
  } catch (error) {
    await orm.close();
    throw error;
  }
  const connectors = new ConnectorRegistry();
  for (const [type, handler] of Object.entries(options.connectors ?? {}))
    connectors.register(type, handler);
  const { services, internal } = createServices({
    orm,
    database: config.database,
    // Called only after a commit, by which time the scheduler below exists.
    outboxWritten: () => scheduler.wake(),
    connectorTypes: () => connectors.types(),
    log: options.log,
  });
  const scheduler: Scheduler = createScheduler({
    orm,
    database: config.database,
    internal,
    connectors,
    settings: options.scheduler,
  });
  const intakeContext = await intakeContextFor(
    intakeSettingsOf(config),
    config.dataDir,
    orm,
    services,
    options.log,
  );
  // Mailbox sync jobs need the started scheduler's Agenda; until then the intake only answers queries.
  let intake = createIntake(intakeContext, null);
  const runtime: Runtime = {
    config,
    orm,
    services,
    internal,
    connectors,
    scheduler,
    get intake() {
      return intake;
    },
    async start() {
      await scheduler.start();
      intake = createIntake(intakeContext, scheduler.agenda);
    },
    async stop() {
      await intake.jobs?.stop();
      await scheduler.stop();
      await intakeContext.close();
      await orm.close();
    },
  };
  return runtime;
}
