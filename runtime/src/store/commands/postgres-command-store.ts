/**
 * The command path on PostgreSQL: a batch of changes is ONE statement — data-modifying
 * CTEs insert new instances, update the others under their optimistic lock, and write
 * the dependent rows of the winners only — so a batch costs one round trip and one
 * commit whatever its size. Rows travel as one array per column, spread by `unnest`, so
 * the statement text never changes and is planned once per connection. If the
 * statement fails, the batch is replayed change by change so only the faulty one fails.
 */
import type { Knex } from '@mikro-orm/knex';
import type { ClientBase } from 'pg';
import type { CommandStore, CommitOutcome, InstanceChange, InstanceRecord } from './records.js';
import { partitionSameInstance } from './records.js';

type Row = Record<string, unknown>;

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
    const batch = changes.filter((_, i) => eligible[i]);
    return this.withClient(async (client) => {
      const outcomes = new Map<InstanceChange, CommitOutcome>();
      try {
        const won = await write(client, batch);
        for (const change of batch) {
          outcomes.set(
            change,
            won.has(change.instance.id) ? { ok: true } : { ok: false, conflict: true },
          );
        }
      } catch {
        for (const change of batch) outcomes.set(change, await writeAlone(client, change));
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
  const result = await client.query({
    name: 'pectrack_commit_batch',
    text: BATCH_SQL,
    values: batchValues(changes),
  });
  return new Set(result.rows.map((r: Row) => r.id as string));
}

interface Table {
  name: string;
  columns: string[];
  types: string[];
}

/** `table('task', 'id varchar, ...')`: column names and their types, in parameter order. */
function table(name: string, spec: string): Table {
  const pairs = spec.split(',').map((c) => c.trim().split(' '));
  return { name, columns: pairs.map((p) => p[0]!), types: pairs.map((p) => p[1]!) };
}

const INSTANCES = table(
  'process_instance',
  'id varchar, tenant_id varchar, definition_id varchar, business_key varchar, status varchar, state jsonb, version int, started_at timestamptz, ended_at timestamptz, has_incident boolean',
);
const UPDATES = table(
  '',
  'id varchar, expected int, version int, status varchar, state jsonb, ended_at timestamptz, has_incident boolean',
);
const TASKS = table(
  'task',
  'id varchar, tenant_id varchar, instance_id varchar, definition_id varchar, task_ref varchar, element_id varchar, name varchar, kind varchar, status varchar, assignee varchar, candidate_users text, candidate_offices text, due_at timestamptz, priority int, form_key varchar, created_at timestamptz',
);
const CLOSED = table(
  '',
  'id varchar, instance_id varchar, status varchar, closed_at timestamptz, closed_by varchar',
);
const SUBSCRIPTIONS = table(
  'subscription',
  'id varchar, tenant_id varchar, instance_id varchar, ref varchar, kind varchar, element_id varchar, message_name varchar, correlation_key varchar, timer_due_at timestamptz, created_at timestamptz',
);
const REMOVED = table('', 'id varchar, instance_id varchar');
const INCIDENTS = table(
  'incident',
  'id varchar, tenant_id varchar, instance_id varchar, ref varchar, element_id varchar, type varchar, message text, status varchar, created_at timestamptz',
);
const RESOLVED = table('', 'id varchar, instance_id varchar, resolved_at timestamptz');
const HISTORY = table(
  'history_event',
  'tenant_id varchar, instance_id varchar, at timestamptz, event varchar, element_id varchar, element_type varchar, data jsonb',
);
const OUTBOX = table(
  'outbox',
  'tenant_id varchar, instance_id varchar, kind varchar, payload jsonb, idempotency_key varchar, status varchar, attempts int, next_attempt_at timestamptz, created_at timestamptz',
);

/** The parameter order of BATCH_SQL: one array per column of each of these, in turn. */
const PARAMETER_ORDER = [
  INSTANCES,
  UPDATES,
  TASKS,
  CLOSED,
  SUBSCRIPTIONS,
  REMOVED,
  INCIDENTS,
  RESOLVED,
  HISTORY,
  OUTBOX,
];

/** Rows that depend on an instance are written only if the instance was (`won`). */
const BATCH_SQL = (() => {
  let n = 0;
  const unnest = (t: Table): string =>
    `unnest(${t.types.map((type) => `$${++n}::${type}[]`).join(', ')}) as x(${t.columns.join(', ')})`;
  const insert = (t: Table, filtered = true): string =>
    `insert into ${t.name} (${t.columns.join(', ')}) select * from ${unnest(t)}` +
    (filtered ? ' where x.instance_id in (select id from won)' : '');
  return `with
    ins as (${insert(INSTANCES, false)} returning id),
    upd as (update process_instance as p
      set version = x.version, status = x.status, state = x.state, ended_at = x.ended_at, has_incident = x.has_incident
      from ${unnest(UPDATES)} where p.id = x.id and p.version = x.expected returning p.id),
    won as (select id from ins union all select id from upd),
    w_task as (${insert(TASKS)}),
    closed as (update task set status = x.status, completed_at = x.closed_at, completed_by = x.closed_by
      from ${unnest(CLOSED)} where task.id = x.id and task.status = 'open' and x.instance_id in (select id from won)),
    w_subscription as (${insert(SUBSCRIPTIONS)}),
    unsubscribed as (delete from subscription using ${unnest(REMOVED)}
      where subscription.id = x.id and x.instance_id in (select id from won)),
    w_incident as (${insert(INCIDENTS)}),
    resolved as (update incident set status = 'resolved', resolved_at = x.resolved_at
      from ${unnest(RESOLVED)} where incident.id = x.id and x.instance_id in (select id from won)),
    w_history as (${insert(HISTORY)}),
    w_outbox as (${insert(OUTBOX)})
    select id from won`;
})();

/** The batch as column arrays, in PARAMETER_ORDER. */
function batchValues(changes: InstanceChange[]): unknown[] {
  const rows = new Map<Table, unknown[][]>(PARAMETER_ORDER.map((t) => [t, []]));
  const add = (t: Table, row: unknown[]): void => void rows.get(t)!.push(row.map(storable));
  for (const c of changes) {
    const i = c.instance;
    const state = jsonb(i.state);
    if (c.expectedVersion === null) {
      add(INSTANCES, [
        i.id,
        i.tenantId,
        i.definitionId,
        i.businessKey,
        i.status,
        state,
        i.version,
        i.startedAt,
        i.endedAt,
        i.hasIncident,
      ]);
    } else {
      add(UPDATES, [i.id, c.expectedVersion, i.version, i.status, state, i.endedAt, i.hasIncident]);
    }
    for (const t of c.tasksCreated) {
      add(TASKS, [
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
      ]);
    }
    for (const x of c.tasksClosed) add(CLOSED, [x.id, i.id, x.status, x.at, x.by]);
    for (const s of c.subscriptionsCreated) {
      add(SUBSCRIPTIONS, [
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
      ]);
    }
    for (const id of c.subscriptionsRemoved) add(REMOVED, [id, i.id]);
    for (const x of c.incidentsOpened) {
      add(INCIDENTS, [
        x.id,
        x.tenantId,
        x.instanceId,
        x.ref,
        x.elementId,
        x.type,
        x.message,
        'open',
        x.createdAt,
      ]);
    }
    for (const r of c.incidentsResolved) add(RESOLVED, [r.id, i.id, r.at]);
    for (const h of c.history) {
      add(HISTORY, [
        h.tenantId,
        h.instanceId,
        h.at,
        h.event,
        h.elementId,
        h.elementType,
        h.data ? jsonb(h.data) : null,
      ]);
    }
    for (const o of c.outbox) {
      add(OUTBOX, [
        o.tenantId,
        o.instanceId,
        o.kind,
        jsonb(o.payload),
        o.idempotencyKey,
        'pending',
        0,
        o.nextAttemptAt,
        o.createdAt,
      ]);
    }
  }
  return PARAMETER_ORDER.flatMap((t) =>
    t.columns.map((_, column) => rows.get(t)!.map((row) => row[column])),
  );
}

/**
 * PostgreSQL holds no U+0000: text refuses the byte, jsonb the `\u0000` escape. One NUL from
 * outside (a NUL-padded field in a service's answer, an error message quoting it) would make the
 * whole change unwritable, and the instance stuck. It is written as the six characters `\u0000`,
 * its JSON spelling, rather than dropped: a value that lost its NULs would pass for what the far
 * side sent, while the escape still shows what it did send.
 */
function spelledNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\\u0000') : text;
}

/** A column value PostgreSQL takes: see spelledNul. */
function storable(value: unknown): unknown {
  return typeof value === 'string' ? spelledNul(value) : value;
}

/** A value as jsonb text. Its JSON spells a NUL `\u0000`: only then is the value walked. */
function jsonb(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes('\\u0000') ? JSON.stringify(value, withNulSpelled) : text;
}

function withNulSpelled(_name: string, value: unknown): unknown {
  if (typeof value === 'string') return spelledNul(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries = Object.entries(value);
  if (!entries.some(([name]) => name.includes('\u0000'))) return value;
  return Object.fromEntries(entries.map(([name, v]) => [spelledNul(name), v]));
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
