/**
 * What one command writes, in domain terms. The services build an `InstanceChange` from
 * the engine's effects; a CommandStore (one per database family) persists a batch of them.
 */
import type { InstanceState } from '../../engine/types.js';
import type { OutboxKind } from '../entities/outbox.js';

export interface InstanceRecord {
  id: string;
  tenantId: string;
  definitionId: string;
  businessKey: string | null;
  status: 'active' | 'completed' | 'terminated';
  state: InstanceState;
  version: number;
  startedAt: Date;
  endedAt: Date | null;
  hasIncident: boolean;
}

export interface TaskRecord {
  id: string;
  tenantId: string;
  instanceId: string;
  definitionId: string;
  taskRef: string;
  elementId: string;
  name: string | null;
  kind: 'user' | 'manual';
  assignee: string | null;
  candidateUsers: string[];
  candidateOffices: string[];
  dueAt: Date | null;
  priority: number;
  formKey: string | null;
  createdAt: Date;
}

export interface TaskClosure {
  id: string;
  status: 'completed' | 'cancelled';
  at: Date;
  by: string | null;
}

export interface SubscriptionRecord {
  id: string;
  tenantId: string;
  instanceId: string;
  ref: string;
  kind: 'message' | 'timer';
  elementId: string;
  messageName: string | null;
  correlationKey: string | null;
  timerDueAt: Date | null;
  createdAt: Date;
}

export interface IncidentRecord {
  id: string;
  tenantId: string;
  instanceId: string;
  ref: string;
  elementId: string;
  type: string;
  message: string;
  createdAt: Date;
}

export interface HistoryRecord {
  tenantId: string;
  instanceId: string;
  at: Date;
  event: string;
  elementId: string | null;
  elementType: string | null;
  data: Record<string, unknown> | null;
}

export interface OutboxRecord {
  tenantId: string;
  instanceId: string | null;
  kind: OutboxKind;
  payload: Record<string, unknown>;
  idempotencyKey: string;
  nextAttemptAt: Date;
  createdAt: Date;
}

export interface InstanceChange {
  /** The instance after the command; its `version` is the new one. */
  instance: InstanceRecord;
  /** The version the command read; null when the command created the instance. */
  expectedVersion: number | null;
  tasksCreated: TaskRecord[];
  tasksClosed: TaskClosure[];
  subscriptionsCreated: SubscriptionRecord[];
  subscriptionsRemoved: string[];
  incidentsOpened: IncidentRecord[];
  incidentsResolved: { id: string; at: Date }[];
  history: HistoryRecord[];
  outbox: OutboxRecord[];
}

/** Per change: committed, lost the optimistic lock, or failed on its own. */
export type CommitOutcome =
  { ok: true } | { ok: false; conflict: true } | { ok: false; conflict: false; error: Error };

export interface CommandStore {
  /** Instances by id; the caller checks the tenant. */
  loadInstances(ids: readonly string[]): Promise<Map<string, InstanceRecord>>;
  /** Writes the changes in one transaction; a change that fails does not take the others down. */
  commit(changes: readonly InstanceChange[]): Promise<CommitOutcome[]>;
}

export function emptyChange(
  instance: InstanceRecord,
  expectedVersion: number | null,
): InstanceChange {
  return {
    instance,
    expectedVersion,
    tasksCreated: [],
    tasksClosed: [],
    subscriptionsCreated: [],
    subscriptionsRemoved: [],
    incidentsOpened: [],
    incidentsResolved: [],
    history: [],
    outbox: [],
  };
}

/**
 * Inside one batch at most one change per instance can win: they all read the same
 * committed version. Later ones are conflicts before anything is sent.
 */
export function partitionSameInstance(changes: readonly InstanceChange[]): boolean[] {
  const seen = new Set<string>();
  return changes.map((change) => {
    if (seen.has(change.instance.id)) return false;
    seen.add(change.instance.id);
    return true;
  });
}
