import { Migration } from '@mikro-orm/migrations';
import type { Knex } from '@mikro-orm/knex';

/**
 * Mailboxes, their per-folder checkpoints, messages and the delivery state of what we send
 * (issue 3). Built with knex's schema builder, like the initial migration, so one migration
 * gives the right DDL on SQLite and PostgreSQL.
 */
export class Migration20261127100000_intake extends Migration {
  override up(): void {
    for (const build of [mailboxes, messages]) {
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

function mailboxes(schema: Schema): Schema {
  return schema
    .createTable('mailbox', (t) => {
      t.string('id', 64).primary();
      tenantColumn(t);
      t.string('name').notNullable();
      t.string('address').notNullable();
      t.string('imap_host').notNullable();
      t.integer('imap_port').notNullable();
      t.boolean('imap_tls').notNullable();
      t.string('username').notNullable();
      t.text('password_encrypted').notNullable();
      t.jsonb('folders').notNullable();
      t.string('smtp_host');
      t.integer('smtp_port');
      t.boolean('smtp_tls').notNullable();
      t.string('flag_keyword');
      t.boolean('enabled').notNullable();
      t.string('health_status', 16).notNullable();
      t.text('last_error');
      t.integer('consecutive_failures').notNullable();
      t.datetime('last_sync_at', { useTz: true });
      t.datetime('created_at', { useTz: true }).notNullable();
      t.datetime('updated_at', { useTz: true }).notNullable();
      t.unique(['tenant_id', 'address']);
    })
    .createTable('mailbox_checkpoint', (t) => {
      t.increments('id').primary();
      tenantColumn(t);
      t.string('mailbox_id', 64)
        .notNullable()
        .references('id')
        .inTable('mailbox')
        .onDelete('CASCADE');
      t.string('folder').notNullable();
      t.string('uid_validity', 20).notNullable();
      t.integer('last_uid').notNullable();
      t.datetime('updated_at', { useTz: true }).notNullable();
      t.unique(['mailbox_id', 'folder']);
    });
}

function messages(schema: Schema): Schema {
  return schema
    .createTable('message', (t) => {
      t.string('id', 64).primary();
      tenantColumn(t);
      t.string('direction', 8).notNullable();
      // No foreign key: a message outlives the mailbox configuration that brought it in.
      t.string('mailbox_id', 64).notNullable();
      t.string('folder');
      t.integer('uid');
      t.string('dedupe_key').notNullable();
      t.string('kind', 48).notNullable();
      t.string('provider_id');
      t.string('message_id');
      t.string('original_message_id');
      t.text('subject');
      t.string('sender');
      t.jsonb('recipients').notNullable();
      t.string('sha256', 64).notNullable();
      t.integer('size').notNullable();
      t.string('signature_status', 24);
      t.jsonb('summary').notNullable();
      t.jsonb('problems').notNullable();
      t.string('delivery_status', 16);
      t.datetime('received_at', { useTz: true }).notNullable();
      t.unique(['tenant_id', 'dedupe_key']);
      t.index(['tenant_id', 'mailbox_id', 'received_at']);
      t.index(['tenant_id', 'kind']);
      t.index(['tenant_id', 'message_id']);
      t.index(['tenant_id', 'original_message_id']);
    })
    .createTable('outgoing_recipient', (t) => {
      t.increments('id').primary();
      tenantColumn(t);
      t.string('message_id', 64).notNullable().references('id').inTable('message');
      t.string('address').notNullable();
      t.string('status', 16).notNullable();
      t.datetime('updated_at', { useTz: true }).notNullable();
      t.unique(['message_id', 'address']);
    })
    .createTable('message_event', (t) => {
      t.increments('id').primary();
      tenantColumn(t);
      t.string('message_id', 64).notNullable().references('id').inTable('message');
      t.string('recipient');
      t.datetime('at', { useTz: true }).notNullable();
      t.string('event', 32).notNullable();
      t.string('receipt_message_id', 64);
      t.jsonb('data');
      t.index(['message_id']);
    });
}
