import { Migration } from '@mikro-orm/migrations';
import type { Knex } from '@mikro-orm/knex';

/**
 * The initial schema, written with knex's schema builder so the one migration
 * produces the right DDL on SQLite and on PostgreSQL.
 */
export class Migration20261127000000_initial extends Migration {
  override up(): void {
    for (const build of [tenancy, people, definitions, execution, delivery]) {
      for (const statement of build(this.getKnex().schema).toSQL()) {
        this.addSql(statement.sql);
      }
    }
  }
}

type Schema = Knex.SchemaBuilder;

function tenantColumn(table: Knex.CreateTableBuilder): void {
  table.string('tenant_id', 64).notNullable().references('id').inTable('tenant');
}

/**
 * The rows every command writes (instances, tasks, history) carry no foreign keys that the
 * command path already guarantees: an instance's tenant is its definition's, a task is
 * written in the same change as its instance. Each such check would cost every command.
 */
function hotTenantColumn(table: Knex.CreateTableBuilder): void {
  table.string('tenant_id', 64).notNullable();
}

function tenancy(schema: Schema): Schema {
  return schema.createTable('tenant', (t) => {
    t.string('id', 64).primary();
    t.string('name').notNullable();
    t.datetime('created_at', { useTz: true }).notNullable();
  });
}

function people(schema: Schema): Schema {
  return schema
    .createTable('app_user', (t) => {
      t.string('id', 64).primary();
      tenantColumn(t);
      t.string('username').notNullable();
      t.string('password_hash');
      t.string('display_name');
      t.jsonb('roles').notNullable();
      t.boolean('active').notNullable().defaultTo(true);
      t.datetime('created_at', { useTz: true }).notNullable();
      t.unique(['tenant_id', 'username']);
    })
    .createTable('office', (t) => {
      t.string('id', 64).primary();
      tenantColumn(t);
      t.string('code').notNullable();
      t.string('name').notNullable();
      t.string('parent_id', 64).references('id').inTable('office');
      t.string('head_id', 64).references('id').inTable('app_user');
      t.unique(['tenant_id', 'code']);
    })
    .createTable('membership', (t) => {
      t.string('id', 64).primary();
      tenantColumn(t);
      t.string('user_id', 64).notNullable().references('id').inTable('app_user');
      t.string('office_id', 64).notNullable().references('id').inTable('office');
      t.string('role').notNullable();
      t.unique(['user_id', 'office_id', 'role']);
    })
    .createTable('api_token', (t) => {
      t.string('id', 64).primary();
      tenantColumn(t);
      t.string('name').notNullable();
      t.string('token_hash', 64).notNullable().unique();
      t.string('user_id', 64).notNullable().references('id').inTable('app_user');
      t.datetime('created_at', { useTz: true }).notNullable();
      t.datetime('last_used_at', { useTz: true });
      t.datetime('revoked_at', { useTz: true });
    });
}

function definitions(schema: Schema): Schema {
  return schema
    .createTable('deployment', (t) => {
      t.string('id', 64).primary();
      tenantColumn(t);
      t.string('name').notNullable();
      t.string('source');
      t.string('deployed_by');
      t.datetime('deployed_at', { useTz: true }).notNullable();
    })
    .createTable('process_definition', (t) => {
      t.string('id', 255).primary();
      tenantColumn(t);
      t.string('key').notNullable();
      t.integer('version').notNullable();
      t.string('name');
      t.text('xml').notNullable();
      t.string('sha256', 64).notNullable();
      t.string('deployment_id', 64).notNullable().references('id').inTable('deployment');
      t.string('deployed_by');
      t.datetime('deployed_at', { useTz: true }).notNullable();
      t.unique(['tenant_id', 'key', 'version']);
    });
}

function execution(schema: Schema): Schema {
  return schema
    .createTable('process_instance', (t) => {
      t.string('id', 64).primary();
      hotTenantColumn(t);
      t.string('definition_id', 255).notNullable().references('id').inTable('process_definition');
      t.string('business_key');
      t.string('status', 16).notNullable();
      t.jsonb('state').notNullable();
      t.integer('version').notNullable();
      t.datetime('started_at', { useTz: true }).notNullable();
      t.datetime('ended_at', { useTz: true });
      t.boolean('has_incident').notNullable();
      t.index(['tenant_id', 'status']);
      t.index(['tenant_id', 'business_key']);
      t.index(['definition_id']);
    })
    .createTable('task', (t) => {
      t.string('id', 128).primary();
      hotTenantColumn(t);
      t.string('instance_id', 64).notNullable();
      t.string('definition_id', 255).notNullable();
      t.string('task_ref', 64).notNullable();
      t.string('element_id').notNullable();
      t.string('name');
      t.string('kind', 16).notNullable();
      t.string('status', 16).notNullable();
      t.string('assignee');
      t.text('candidate_users').notNullable();
      t.text('candidate_offices').notNullable();
      t.datetime('due_at', { useTz: true });
      t.integer('priority').notNullable();
      t.string('form_key');
      t.datetime('created_at', { useTz: true }).notNullable();
      t.datetime('completed_at', { useTz: true });
      t.string('completed_by');
      t.index(['tenant_id', 'status', 'assignee']);
      t.index(['instance_id']);
    })
    .createTable('subscription', (t) => {
      t.string('id', 128).primary();
      tenantColumn(t);
      t.string('instance_id', 64).notNullable().references('id').inTable('process_instance');
      t.string('ref', 64).notNullable();
      t.string('kind', 16).notNullable();
      t.string('element_id').notNullable();
      t.string('message_name');
      t.string('correlation_key');
      t.datetime('timer_due_at', { useTz: true });
      t.datetime('created_at', { useTz: true }).notNullable();
      t.index(['tenant_id', 'message_name', 'correlation_key']);
      t.index(['instance_id']);
    })
    .createTable('incident', (t) => {
      t.string('id', 128).primary();
      tenantColumn(t);
      t.string('instance_id', 64).notNullable().references('id').inTable('process_instance');
      t.string('ref', 64).notNullable();
      t.string('element_id').notNullable();
      t.string('type', 32).notNullable();
      t.text('message').notNullable();
      t.string('status', 16).notNullable();
      t.datetime('created_at', { useTz: true }).notNullable();
      t.datetime('resolved_at', { useTz: true });
      t.index(['tenant_id', 'status']);
      t.index(['instance_id']);
    })
    .createTable('history_event', (t) => {
      t.increments('id').primary();
      hotTenantColumn(t);
      t.string('instance_id', 64).notNullable();
      t.datetime('at', { useTz: true }).notNullable();
      t.string('event', 32).notNullable();
      t.string('element_id');
      t.string('element_type');
      t.jsonb('data');
      t.index(['instance_id']);
    });
}

function delivery(schema: Schema): Schema {
  return schema.createTable('outbox', (t) => {
    t.increments('id').primary();
    tenantColumn(t);
    t.string('instance_id', 64);
    t.string('kind', 32).notNullable();
    t.jsonb('payload').notNullable();
    t.string('idempotency_key').notNullable().unique();
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable();
    t.datetime('next_attempt_at', { useTz: true }).notNullable();
    t.datetime('locked_until', { useTz: true });
    t.text('last_error');
    t.datetime('created_at', { useTz: true }).notNullable();
    t.datetime('done_at', { useTz: true });
    t.index(['status', 'next_attempt_at']);
  });
}
