import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';

/** Engine effects, carried out by the dispatcher. */
export type DispatchedOutboxKind = 'scheduleTimer' | 'cancelTimer' | 'invokeConnector';
/** `intake`: an incoming certified message waiting for the case opener, which consumes it itself. */
export type OutboxKind = DispatchedOutboxKind | 'intake';

export const DISPATCHED_OUTBOX_KINDS: readonly DispatchedOutboxKind[] = [
  'scheduleTimer',
  'cancelTimer',
  'invokeConnector',
];
export type OutboxStatus = 'pending' | 'running' | 'done' | 'failed';

/**
 * An external effect committed with the state change that caused it; the dispatcher
 * (scheduler/outbox-dispatcher.ts) carries it out after commit, keyed by
 * `idempotencyKey` so a re-drain after a crash cannot do it twice.
 */
export interface Outbox {
  id: number;
  tenant: Tenant;
  instanceId: string | null;
  kind: OutboxKind;
  payload: Record<string, unknown>;
  idempotencyKey: string;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: Date;
  lockedUntil: Date | null;
  lastError: string | null;
  createdAt: Date;
  doneAt: Date | null;
}

export const OutboxSchema = new EntitySchema<Outbox>({
  name: 'Outbox',
  tableName: 'outbox',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    instanceId: { type: 'string', nullable: true },
    kind: { type: 'string', length: 32 },
    payload: { type: 'json' },
    idempotencyKey: { type: 'string', unique: true },
    status: { type: 'string', length: 16 },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: 'datetime' },
    lockedUntil: { type: 'datetime', nullable: true },
    lastError: { type: 'text', nullable: true },
    createdAt: { type: 'datetime' },
    doneAt: { type: 'datetime', nullable: true },
  },
});
