/** Assembles the application services (services/types.ts) over one database. */
import type { DatabaseConfig } from '../config.js';
import { batched, createCommandStore } from '../store/commands/index.js';
import type { ServiceContext, ServiceLogger } from './context.js';
import { knexOf, type Orm } from '../store/orm.js';
import { DefinitionCache } from './definition-cache.js';
import { definitionServices } from './definitions.js';
import { incidentServices } from './incidents.js';
import { instanceServices } from './instances.js';
import { internalCommands, type InternalCommands } from './internal.js';
import { messageServices } from './messages.js';
import { taskServices } from './tasks.js';
import type { Services } from './types.js';

export type * from './types.js';
export type { InternalCommands, InternalOutcome } from './internal.js';

export interface ServicesOptions {
  orm: Orm;
  database: DatabaseConfig;
  now?: () => Date;
  /** Wakes the outbox dispatcher after a commit that wrote outbox rows. */
  outboxWritten?: () => void;
  /** The connector types this node can call; a deployment warns about the others. */
  connectorTypes?: () => readonly string[];
  log?: ServiceLogger;
}

export function createServices(options: ServicesOptions): {
  services: Services;
  internal: InternalCommands;
} {
  const knex = knexOf(options.orm);
  const ctx: ServiceContext = {
    orm: options.orm,
    // PostgreSQL runs a few batches at once, each on its own pooled connection.
    commands: batched(
      createCommandStore(options.database, knex),
      options.database.kind === 'postgresql' ? 4 : 1,
    ),
    definitions: new DefinitionCache(options.orm),
    now: options.now ?? (() => new Date()),
    outboxWritten: options.outboxWritten ?? (() => undefined),
    connectorTypes: options.connectorTypes ?? null,
    log: options.log ?? { warn: () => undefined },
  };
  const services: Services = {
    definitions: definitionServices(ctx),
    instances: instanceServices(ctx),
    tasks: taskServices(ctx),
    messages: messageServices(ctx),
    incidents: incidentServices(ctx),
  };
  return { services, internal: internalCommands(ctx) };
}
