/**
 * The command path on PostgreSQL: a client borrowed from the ORM's knex pool, one
 * transaction per batch with one multi-row statement per table, so a batch costs the
 * same handful of round trips whatever its size. If a statement fails, the batch is
 * replayed change by change so only the faulty change fails.
 */
import type { Knex } from '@mikro-orm/knex';
import type { ClientBase } from 'pg';
import type { CommandStore, CommitOutcome, InstanceChange, InstanceRecord } from './records.js';
import { partitionSameInstance } from './records.js';

type Row = Record<string, unknown>;

/** PostgreSQL accepts at most 65535 parameters per statement. */
const MAX_PARAMS = 30_000;

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
      try {
        const won = await inTransaction(client, () => writeBatch(client, changes.filter((_, i) => eligible[i])));
        return changes.map((change, i) => (eligible[i] && won.has(change) ? { ok: true } : { ok: false, conflict: true }));
      } catch {
        return replayOneByOne(client, changes, eligible);
      }
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

async function replayOneByOne(
  client: ClientBase,
  changes: readonly InstanceChange[],
  eligible: boolean[],
): Promise<CommitOutcome[]> {
  const outcomes: CommitOutcome[] = [];
  for (const [i, change] of changes.entries()) {
    if (!eligible[i]) {
      outcomes.push({ ok: false, conflict: true });
      continue;
    }
    try {
      const won = await inTransaction(client, () => writeBatch(client, [change]));
      outcomes.push(won.size ? { ok: true } : { ok: false, conflict: true });
    } catch (error) {
      outcomes.push({ ok: false, conflict: false, error: error as Error });
    }
  }
  return outcomes;
}

async function inTransaction<T>(client: ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** Returns the changes that won their optimistic lock; only their rows are written. */
async function writeBatch(client: ClientBase, changes: InstanceChange[]): Promise<Set<InstanceChange>> {
  const won = new Set(changes.filter((c) => c.expectedVersion === null));
  await insertRows(client, 'process_instance', INSTANCE_COLUMNS, [...won].map((c) => instanceRow(c.instance)));
  const updates = changes.filter((c) => c.expectedVersion !== null);
  for (const id of await updateInstances(client, updates)) {
    won.add(updates.find((c) => c.instance.id === id)!);
  }
  const winners = changes.filter((c) => won.has(c));
  await writeDependents(client, winners);
  return won;
}

async function writeDependents(client: ClientBase, changes: InstanceChange[]): Promise<void> {
  const all = <T>(pick: (c: InstanceChange) => T[]): T[] => changes.flatMap(pick);
  await insertRows(client, 'task', TASK_COLUMNS, all((c) => c.tasksCreated).map((t) => [
    t.id, t.tenantId, t.instanceId, t.definitionId, t.taskRef, t.elementId, t.name, t.kind, 'open', t.assignee,
    JSON.stringify(t.candidateUsers), JSON.stringify(t.candidateOffices), t.dueAt, t.priority, t.formKey, t.createdAt,
  ]));
  await updateFromValues(
    client,
    `update task set status = v.status, completed_at = v.at, completed_by = v.by
     from (values %VALUES%) as v(id, status, at, by) where task.id = v.id and task.status = 'open'`,
    ['varchar', 'varchar', 'timestamptz', 'varchar'],
    all((c) => c.tasksClosed).map((x) => [x.id, x.status, x.at, x.by]),
  );
  await insertRows(client, 'subscription', SUBSCRIPTION_COLUMNS, all((c) => c.subscriptionsCreated).map((s) => [
    s.id, s.tenantId, s.instanceId, s.ref, s.kind, s.elementId, s.messageName, s.correlationKey, s.timerDueAt, s.createdAt,
  ]));
  const removed = all((c) => c.subscriptionsRemoved);
  if (removed.length) await client.query('delete from subscription where id = any($1::varchar[])', [removed]);
  await insertRows(client, 'incident', INCIDENT_COLUMNS, all((c) => c.incidentsOpened).map((x) => [
    x.id, x.tenantId, x.instanceId, x.ref, x.elementId, x.type, x.message, 'open', x.createdAt,
  ]));
  await updateFromValues(
    client,
    `update incident set status = 'resolved', resolved_at = v.at from (values %VALUES%) as v(id, at) where incident.id = v.id`,
    ['varchar', 'timestamptz'],
    all((c) => c.incidentsResolved).map((r) => [r.id, r.at]),
  );
  await insertRows(client, 'history_event', HISTORY_COLUMNS, all((c) => c.history).map((h) => [
    h.tenantId, h.instanceId, h.at, h.event, h.elementId, h.elementType, h.data ? JSON.stringify(h.data) : null,
  ]));
  await insertRows(client, 'outbox', OUTBOX_COLUMNS, all((c) => c.outbox).map((o) => [
    o.tenantId, o.instanceId, o.kind, JSON.stringify(o.payload), o.idempotencyKey, 'pending', 0, o.nextAttemptAt, o.createdAt,
  ]));
}

const INSTANCE_COLUMNS = ['id', 'tenant_id', 'definition_id', 'business_key', 'status', 'state', 'version', 'started_at', 'ended_at', 'has_incident'];
const TASK_COLUMNS = ['id', 'tenant_id', 'instance_id', 'definition_id', 'task_ref', 'element_id', 'name', 'kind', 'status', 'assignee', 'candidate_users', 'candidate_offices', 'due_at', 'priority', 'form_key', 'created_at'];
const SUBSCRIPTION_COLUMNS = ['id', 'tenant_id', 'instance_id', 'ref', 'kind', 'element_id', 'message_name', 'correlation_key', 'timer_due_at', 'created_at'];
const INCIDENT_COLUMNS = ['id', 'tenant_id', 'instance_id', 'ref', 'element_id', 'type', 'message', 'status', 'created_at'];
const HISTORY_COLUMNS = ['tenant_id', 'instance_id', 'at', 'event', 'element_id', 'element_type', 'data'];
const OUTBOX_COLUMNS = ['tenant_id', 'instance_id', 'kind', 'payload', 'idempotency_key', 'status', 'attempts', 'next_attempt_at', 'created_at'];

function instanceRow(i: InstanceRecord): unknown[] {
  return [i.id, i.tenantId, i.definitionId, i.businessKey, i.status, JSON.stringify(i.state), i.version, i.startedAt, i.endedAt, i.hasIncident];
}

async function updateInstances(client: ClientBase, updates: InstanceChange[]): Promise<string[]> {
  const ids: string[] = [];
  for (const rows of chunks(updates.map((c) => {
    const i = c.instance;
    return [i.id, c.expectedVersion, i.version, i.status, JSON.stringify(i.state), i.endedAt, i.hasIncident];
  }), 7)) {
    const result = await client.query(
      `update process_instance as p
       set version = v.version, status = v.status, state = v.state, ended_at = v.ended_at, has_incident = v.has_incident
       from (values ${valuesList(rows.length, ['varchar', 'int', 'int', 'varchar', 'jsonb', 'timestamptz', 'boolean'])})
         as v(id, expected, version, status, state, ended_at, has_incident)
       where p.id = v.id and p.version = v.expected
       returning p.id`,
      rows.flat(),
    );
    ids.push(...result.rows.map((r: Row) => r.id as string));
  }
  return ids;
}

async function insertRows(client: ClientBase, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  for (const chunk of chunks(rows, columns.length)) {
    await client.query(
      `insert into ${table} (${columns.join(', ')}) values ${valuesList(chunk.length, columns.map(() => ''))}`,
      chunk.flat(),
    );
  }
}

async function updateFromValues(client: ClientBase, template: string, types: string[], rows: unknown[][]): Promise<void> {
  for (const chunk of chunks(rows, types.length)) {
    await client.query(template.replace('%VALUES%', valuesList(chunk.length, types)), chunk.flat());
  }
}

/** `($1::t1, $2::t2), ($3::t1, ...)`: casts where the VALUES list has no target column to infer from. */
function valuesList(rowCount: number, types: string[]): string {
  const rows: string[] = [];
  let n = 0;
  for (let r = 0; r < rowCount; r++) {
    rows.push(`(${types.map((t) => `$${++n}${t ? `::${t}` : ''}`).join(', ')})`);
  }
  return rows.join(', ');
}

function chunks(rows: unknown[][], width: number): unknown[][][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / width));
  const out: unknown[][][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
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
