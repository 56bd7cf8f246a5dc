/**
 * What every service needs: the ORM for general queries, the lean command store for the
 * command path, the definition cache, a clock, and a way to wake the outbox dispatcher.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { CommandStore } from '../store/commands/index.js';
import { tenantFork, type Orm } from '../store/orm.js';
import type { DefinitionCache } from './definition-cache.js';

export interface ServiceContext {
  orm: Orm;
  commands: CommandStore;
  definitions: DefinitionCache;
  now: () => Date;
  /** Called after a commit that wrote outbox rows. */
  outboxWritten: () => void;
  /** The connector registry's types, read at each deployment (it can grow); null: not known. */
  connectorTypes: (() => readonly string[]) | null;
  /** Where work done after a commit reports what it could not do (pino fits). */
  log: ServiceLogger;
}

export interface ServiceLogger {
  warn(data: object, message: string): void;
}

/** A fresh entity manager whose every query is scoped to the tenant (ARCHITECTURE §4). */
export function tenantEm(ctx: ServiceContext, tenantId: string): EntityManager {
  return tenantFork(ctx.orm, tenantId);
}
