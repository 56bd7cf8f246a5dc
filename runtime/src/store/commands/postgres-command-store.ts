/**
 * The command path on PostgreSQL: a batch of changes is ONE statement — data-modifying
 * CTEs insert new instances, update the others under their optimistic lock, and write
 * the dependent rows of the winners only — so a batch costs one round trip and one
 * commit whatever its size. If the statement fails, the batch is replayed change by
 * change so only the faulty change fails.
 */
import type { Knex } from '@mikro-orm/knex';
import type { ClientBase } from 'pg';
import type { CommandStore, CommitOutcome, InstanceChange, InstanceRecord } from './records.js';
import { partitionSameInstance } from './records.js';

type Row = Record<string, unknown>;

/** PostgreSQL accepts at most 65535 parameters per statement; a batch above this is split. */
const MAX_PARAMS = 50_000;

export class PostgresCommandStore implements CommandStore {
  constructor(private readonly knex: Knex) {}

  async loadInstances(ids: readonly string[]): Promise<Map<string, InstanceRecord>> {
    return this.withClient(async (client) => {
      const result = await client.query({
        name: 'pectrack_load_instances',
        text: `select id, tenant_id, definition_id, business_key, status, state, version, started_at, ended_at, has_incident
               from process_instance where id = any($1::varchar[])`,
        values: [ids],
      });
      return new Map(result.rows.map((row: Row) => [row.id as string, toInstance(row)]));
    });
  }

  async commit(changes: readonly InstanceChange[]): Promise<CommitOutcome[]> {
    const eligible = partitionSameInstance(changes);
    return this.withClient(async (client) => {
      const outcomes = new Map<InstanceChange, CommitOutcome>();
      for (const group of byParamBudget(changes.filter((_, i) => eligible[i]))) {
        try {
          const won = await write(client, group);
          for (const change of group)
            outcomes.set(
              change,
              won.has(change.instance.id) ? { ok: true } : { ok: false, conflict: true },
            );
        } catch {
          for (const change of group) outcomes.set(change, await writeAlone(client, change));
        }
      }
      return changes.map((change) => outcomes.get(change) ?? { ok: false, conflict: true });
    });
  }

  private async withClient<T>(work: (client: ClientBase) => Promise<T>): Promise<T> {
    const client = (await this.knex.client.acquireConnection()) as ClientBase;
    try {
      return await work(client);
    } finally {
      await this.knex.client.releaseConnection(client);
    }
  }
}

async function writeAlone(client: ClientBase, change: InstanceChange): Promise<CommitOutcome> {
  try {
    return (await write(client, [change])).size ? { ok: true } : { ok: false, conflict: true };
  } catch (error) {
    return { ok: false, conflict: false, error: error as Error };
  }
}

/** One statement, so one implicit transaction: returns the ids of the instances written. */
async function write(client: ClientBase, changes: InstanceChange[]): Promise<Set<string>> {
  const statement = new BatchStatement();
  const { text, values } = statement.build(changes);
  const result = await client.query(text, values);
  return new Set(result.rows.map((r: Row) => r.id as string));
}

/** Splits a batch so no statement exceeds the parameter limit. */
function byParamBudget(changes: InstanceChange[]): InstanceChange[][] {
  const groups: InstanceChange[][] = [];
  let current: InstanceChange[] = [];
  let params = 0;
  for (const change of changes) {
    const cost = paramCost(change);
    if (current.length && params + cost > MAX_PARAMS) {
      groups.push(current);
      current = [];
      params = 0;
    }
    current.push(change);
    params += cost;
  }
  if (current.length) groups.push(current);
  return groups;
}

function paramCost(c: InstanceChange): number {
  return (
    10 +
    16 * c.tasksCreated.length +
    5 * c.tasksClosed.length +
    10 * c.subscriptionsCreated.length +
    c.subscriptionsRemoved.length +
    9 * c.incidentsOpened.length +
    3 * c.incidentsResolved.length +
    7 * c.history.length +
    7 * c.outbox.length
  );
}

class BatchStatement {
  private readonly values: unknown[] = [];
  private readonly ctes: string[] = [];

  build(changes: InstanceChange[]): { text: string; values: unknown[] } {
    const inserts = changes.filter((c) => c.expectedVersion === null);
    const updates = changes.filter((c) => c.expectedVersion !== null);
    const winners: string[] = [];
    if (inserts.length) {
      this.cte(
        'ins',
        `insert into process_instance (${INSTANCE_COLUMNS}) values ${this.rows(inserts.map((c) => instanceRow(c.instance)))} returning id`,
      );
      winners.push('select id from ins');
    }
    if (updates.length) {
      this.cte(
        'upd',
        `update process_instance as p
         set version = v.version, status = v.status, state = v.state, ended_at = v.ended_at, has_incident = v.has_incident
         from (values ${this.rows(updates.map(updateRow), UPDATE_TYPES)}) as v(id, expected, version, status, state, ended_at, has_incident)
         where p.id = v.id and p.version = v.expected
         returning p.id`,
      );
      winners.push('select id from upd');
    }
    this.cte('won', winners.join(' union all '));
    this.dependents(changes);
    return { text: `with ${this.ctes.join(',\n')} select id from won`, values: this.values };
  }

  private dependents(changes: InstanceChange[]): void {
    const all = <T>(pick: (c: InstanceChange) => T[]): T[] => changes.flatMap(pick);
    this.insertFor(
      'task',
      TASK_COLUMNS,
      TASK_TYPES,
      all((c) => c.tasksCreated).map((t) => [
        t.id,
        t.tenantId,
        t.instanceId,
        t.definitionId,
        t.taskRef,
        t.elementId,
        t.name,
        t.kind,
        'open',
        t.assignee,
        JSON.stringify(t.candidateUsers),
        JSON.stringify(t.candidateOffices),
        t.dueAt,
        t.priority,
        t.formKey,
        t.createdAt,
      ]),
    );
    const closed = changes.flatMap((c) =>
      c.tasksClosed.map((x) => [x.id, c.instance.id, x.status, x.at, x.by]),
    );
    if (closed.length) {
      this.cte(
        'closed',
        `update task set status = v.status, completed_at = v.closed_at, completed_by = v.closed_by
        from (values ${this.rows(closed, ['varchar', 'varchar', 'varchar', 'timestamptz', 'varchar'])}) as v(id, instance_id, status, closed_at, closed_by)
        where task.id = v.id and task.status = 'open' and v.instance_id in (select id from won)`,
      );
    }
    this.insertFor(
      'subscription',
      SUBSCRIPTION_COLUMNS,
      SUBSCRIPTION_TYPES,
      all((c) => c.subscriptionsCreated).map((s) => [
        s.id,
        s.tenantId,
        s.instanceId,
        s.ref,
        s.kind,
        s.elementId,
        s.messageName,
        s.correlationKey,
        s.timerDueAt,
        s.createdAt,
      ]),
    );
    const removed = all((c) => c.subscriptionsRemoved);
    if (removed.length) {
      this.cte(
        'unsubscribed',
        `delete from subscription where id = any(${this.param(removed)}::varchar[]) and instance_id in (select id from won)`,
      );
    }
    this.insertFor(
      'incident',
      INCIDENT_COLUMNS,
      INCIDENT_TYPES,
      all((c) => c.incidentsOpened).map((x) => [
        x.id,
        x.tenantId,
        x.instanceId,
        x.ref,
        x.elementId,
        x.type,
        x.message,
        'open',
        x.createdAt,
      ]),
    );
    const resolved = changes.flatMap((c) =>
      c.incidentsResolved.map((r) => [r.id, c.instance.id, r.at]),
    );
    if (resolved.length) {
      this.cte(
        'resolved',
        `update incident set status = 'resolved', resolved_at = v.resolved_at
        from (values ${this.rows(resolved, ['varchar', 'varchar', 'timestamptz'])}) as v(id, instance_id, resolved_at)
        where incident.id = v.id and v.instance_id in (select id from won)`,
      );
    }
    this.insertFor(
      'history_event',
      HISTORY_COLUMNS,
      HISTORY_TYPES,
      all((c) => c.history).map((h) => [
        h.tenantId,
        h.instanceId,
        h.at,
        h.event,
        h.elementId,
        h.elementType,
        h.data ? JSON.stringify(h.data) : null,
      ]),
    );
    this.insertFor(
      'outbox',
      OUTBOX_COLUMNS,
      OUTBOX_TYPES,
      all((c) => c.outbox).map((o) => [
        o.tenantId,
        o.instanceId,
        o.kind,
        JSON.stringify(o.payload),
        o.idempotencyKey,
        'pending',
        0,
        o.nextAttemptAt,
        o.createdAt,
      ]),
    );
  }

  /** Rows of the winning instances only; `instance_id` is the filter column of every such table. */
  private insertFor(table: string, columns: string, types: string[], rows: unknown[][]): void {
    if (!rows.length) return;
    this.cte(
      `w_${table}`,
      `insert into ${table} (${columns})
      select * from (values ${this.rows(rows, types)}) as x(${columns})
      where x.instance_id in (select id from won)`,
    );
  }

  private cte(name: string, body: string): void {
    this.ctes.push(`${name} as (${body})`);
  }

  private param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** `($1::t1, $2::t2), (...)`; without types the target columns give them. */
  private rows(rows: unknown[][], types?: string[]): string {
    return rows
      .map(
        (row) =>
          `(${row.map((value, i) => this.param(value) + (types ? `::${types[i]}` : '')).join(', ')})`,
      )
      .join(', ');
  }
}

const INSTANCE_COLUMNS =
  'id, tenant_id, definition_id, business_key, status, state, version, started_at, ended_at, has_incident';
const UPDATE_TYPES = ['varchar', 'int', 'int', 'varchar', 'jsonb', 'timestamptz', 'boolean'];
const TASK_COLUMNS =
  'id, tenant_id, instance_id, definition_id, task_ref, element_id, name, kind, status, assignee, candidate_users, candidate_offices, due_at, priority, form_key, created_at';
const TASK_TYPES = [
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'text',
  'text',
  'timestamptz',
  'int',
  'varchar',
  'timestamptz',
];
const SUBSCRIPTION_COLUMNS =
  'id, tenant_id, instance_id, ref, kind, element_id, message_name, correlation_key, timer_due_at, created_at';
const SUBSCRIPTION_TYPES = [
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'timestamptz',
  'timestamptz',
];
const INCIDENT_COLUMNS =
  'id, tenant_id, instance_id, ref, element_id, type, message, status, created_at';
const INCIDENT_TYPES = [
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'varchar',
  'text',
  'varchar',
  'timestamptz',
];
const HISTORY_COLUMNS = 'tenant_id, instance_id, at, event, element_id, element_type, data';
const HISTORY_TYPES = [
  'varchar',
  'varchar',
  'timestamptz',
  'varchar',
  'varchar',
  'varchar',
  'jsonb',
];
const OUTBOX_COLUMNS =
  'tenant_id, instance_id, kind, payload, idempotency_key, status, attempts, next_attempt_at, created_at';
const OUTBOX_TYPES = [
  'varchar',
  'varchar',
  'varchar',
  'jsonb',
  'varchar',
  'varchar',
  'int',
  'timestamptz',
  'timestamptz',
];

function instanceRow(i: InstanceRecord): unknown[] {
  return [
    i.id,
    i.tenantId,
    i.definitionId,
    i.businessKey,
    i.status,
    JSON.stringify(i.state),
    i.version,
    i.startedAt,
    i.endedAt,
    i.hasIncident,
  ];
}

function updateRow(c: InstanceChange): unknown[] {
  const i = c.instance;
  return [
    i.id,
    c.expectedVersion,
    i.version,
    i.status,
    JSON.stringify(i.state),
    i.endedAt,
    i.hasIncident,
  ];
}

function toInstance(row: Row): InstanceRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    definitionId: row.definition_id as string,
    businessKey: (row.business_key as string | null) ?? null,
    status: row.status as InstanceRecord['status'],
    state: row.state as InstanceRecord['state'],
    version: row.version as number,
    // The ORM's pg client keeps timestamps as text.
    startedAt: new Date(row.started_at as string),
    endedAt: row.ended_at === null ? null : new Date(row.ended_at as string),
    hasIncident: row.has_incident as boolean,
  };
}
