/**
 * The command path on SQLite: prepared statements on the ORM's own better-sqlite3
 * connection (borrowed from knex's single-connection pool, so an ORM transaction and a
 * command batch never interleave), one transaction per batch, a savepoint per change.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Knex } from '@mikro-orm/knex';
import type { CommandStore, CommitOutcome, InstanceChange, InstanceRecord } from './records.js';
import { partitionSameInstance } from './records.js';

type Row = Record<string, unknown>;

const time = (date: Date | null): number | null => (date ? date.getTime() : null);

class Statements {
  readonly selectInstance: Statement;
  readonly insertInstance: Statement;
  readonly updateInstance: Statement;
  readonly insertTask: Statement;
  readonly closeTask: Statement;
  readonly insertSubscription: Statement;
  readonly deleteSubscription: Statement;
  readonly insertIncident: Statement;
  readonly resolveIncident: Statement;
  private readonly insertHistory = new Map<number, Statement>();
  readonly insertOutbox: Statement;

  constructor(private readonly db: Database) {
    this.selectInstance = db.prepare(
      `select id, tenant_id, definition_id, business_key, status, state, version, started_at, ended_at, has_incident
       from process_instance where id = ?`,
    );
    this.insertInstance = db.prepare(
      `insert into process_instance (id, tenant_id, definition_id, business_key, status, state, version, started_at, ended_at, has_incident)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateInstance = db.prepare(
      `update process_instance set status = ?, state = ?, version = ?, ended_at = ?, has_incident = ?
       where id = ? and version = ?`,
    );
    this.insertTask = db.prepare(
      `insert into task (id, tenant_id, instance_id, definition_id, task_ref, element_id, name, kind, status, assignee,
         candidate_users, candidate_offices, due_at, priority, form_key, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.closeTask = db.prepare(
      `update task set status = ?, completed_at = ?, completed_by = ? where id = ? and status = 'open'`,
    );
    this.insertSubscription = db.prepare(
      `insert into subscription (id, tenant_id, instance_id, ref, kind, element_id, message_name, correlation_key, timer_due_at, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteSubscription = db.prepare(`delete from subscription where id = ?`);
    this.insertIncident = db.prepare(
      `insert into incident (id, tenant_id, instance_id, ref, element_id, type, message, status, created_at)
       values (?, ?, ?, ?, ?, ?, ?, 'open', ?)`,
    );
    this.resolveIncident = db.prepare(
      `update incident set status = 'resolved', resolved_at = ? where id = ?`,
    );
    this.insertOutbox = db.prepare(
      `insert into outbox (tenant_id, instance_id, kind, payload, idempotency_key, status, attempts, next_attempt_at, created_at)
       values (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
    );
  }

  /** One multi-row insert per command: a step writes several history rows at once. */
  historyInsert(rows: number): Statement {
    let statement = this.insertHistory.get(rows);
    if (!statement) {
      statement = this.db.prepare(
        `insert into history_event (tenant_id, instance_id, at, event, element_id, element_type, data) values
         ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      );
      this.insertHistory.set(rows, statement);
    }
    return statement;
  }
}

/** Keeps the statement cache small; a step with more history rows is written in chunks. */
const HISTORY_CHUNK = 16;

export class SqliteCommandStore implements CommandStore {
  private readonly prepared = new WeakMap<Database, Statements>();

  constructor(private readonly knex: Knex) {}

  async loadInstances(ids: readonly string[]): Promise<Map<string, InstanceRecord>> {
    return this.withConnection((_db, sql) => {
      const found = new Map<string, InstanceRecord>();
      for (const id of ids) {
        const row = sql.selectInstance.get(id) as Row | undefined;
        if (row) found.set(id, toInstance(row));
      }
      return found;
    });
  }

  async commit(changes: readonly InstanceChange[]): Promise<CommitOutcome[]> {
    const eligible = partitionSameInstance(changes);
    return this.withConnection((db, sql) => {
      const applyOne = db.transaction((change: InstanceChange) => apply(sql, change));
      const outcomes: CommitOutcome[] = [];
      db.transaction(() => {
        changes.forEach((change, i) =>
          outcomes.push(eligible[i] ? tryApply(applyOne, change) : conflict()),
        );
      }).immediate();
      return outcomes;
    });
  }

  private async withConnection<T>(work: (db: Database, sql: Statements) => T): Promise<T> {
    const db = (await this.knex.client.acquireConnection()) as Database;
    try {
      let sql = this.prepared.get(db);
      if (!sql) {
        sql = new Statements(db);
        this.prepared.set(db, sql);
      }
      return work(db, sql);
    } finally {
      await this.knex.client.releaseConnection(db);
    }
  }
}

const conflict = (): CommitOutcome => ({ ok: false, conflict: true });

function tryApply(
  applyOne: (change: InstanceChange) => boolean,
  change: InstanceChange,
): CommitOutcome {
  try {
    return applyOne(change) ? { ok: true } : conflict();
  } catch (error) {
    return { ok: false, conflict: false, error: error as Error };
  }
}

/** Returns false when the optimistic lock is lost; nothing of the change is written then. */
function apply(sql: Statements, change: InstanceChange): boolean {
  const i = change.instance;
  if (change.expectedVersion === null) {
    sql.insertInstance.run(
      i.id,
      i.tenantId,
      i.definitionId,
      i.businessKey,
      i.status,
      JSON.stringify(i.state),
      i.version,
      time(i.startedAt),
      time(i.endedAt),
      i.hasIncident ? 1 : 0,
    );
  } else {
    const result = sql.updateInstance.run(
      i.status,
      JSON.stringify(i.state),
      i.version,
      time(i.endedAt),
      i.hasIncident ? 1 : 0,
      i.id,
      change.expectedVersion,
    );
    if (result.changes === 0) return false;
  }
  for (const t of change.tasksCreated) {
    sql.insertTask.run(
      t.id,
      t.tenantId,
      t.instanceId,
      t.definitionId,
      t.taskRef,
      t.elementId,
      t.name,
      t.kind,
      t.assignee,
      JSON.stringify(t.candidateUsers),
      JSON.stringify(t.candidateOffices),
      time(t.dueAt),
      t.priority,
      t.formKey,
      time(t.createdAt),
    );
  }
  for (const c of change.tasksClosed) sql.closeTask.run(c.status, time(c.at), c.by, c.id);
  for (const s of change.subscriptionsCreated) {
    sql.insertSubscription.run(
      s.id,
      s.tenantId,
      s.instanceId,
      s.ref,
      s.kind,
      s.elementId,
      s.messageName,
      s.correlationKey,
      time(s.timerDueAt),
      time(s.createdAt),
    );
  }
  for (const id of change.subscriptionsRemoved) sql.deleteSubscription.run(id);
  for (const x of change.incidentsOpened) {
    sql.insertIncident.run(
      x.id,
      x.tenantId,
      x.instanceId,
      x.ref,
      x.elementId,
      x.type,
      x.message,
      time(x.createdAt),
    );
  }
  for (const r of change.incidentsResolved) sql.resolveIncident.run(time(r.at), r.id);
  for (let i = 0; i < change.history.length; i += HISTORY_CHUNK) {
    const chunk = change.history.slice(i, i + HISTORY_CHUNK);
    sql
      .historyInsert(chunk.length)
      .run(
        chunk.flatMap((h) => [
          h.tenantId,
          h.instanceId,
          time(h.at),
          h.event,
          h.elementId,
          h.elementType,
          h.data ? JSON.stringify(h.data) : null,
        ]),
      );
  }
  for (const o of change.outbox) {
    sql.insertOutbox.run(
      o.tenantId,
      o.instanceId,
      o.kind,
      JSON.stringify(o.payload),
      o.idempotencyKey,
      time(o.nextAttemptAt),
      time(o.createdAt),
    );
  }
  return true;
}

function toInstance(row: Row): InstanceRecord {
  return {
    id: row.id as string,
    tenantId: row.tenant_id as string,
    definitionId: row.definition_id as string,
    businessKey: (row.business_key as string | null) ?? null,
    status: row.status as InstanceRecord['status'],
    state: JSON.parse(row.state as string) as InstanceRecord['state'],
    version: row.version as number,
    startedAt: new Date(row.started_at as number),
    endedAt: row.ended_at === null ? null : new Date(row.ended_at as number),
    hasIncident: row.has_incident === 1,
  };
}
