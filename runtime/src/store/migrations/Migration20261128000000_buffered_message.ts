import { Migration } from '@mikro-orm/migrations';

/**
 * BPMN messages published with a time to live before any instance waited for them: a PEC
 * receipt that arrives while its process is still finishing the send task is kept, not lost.
 */
export class Migration20261128000000_buffered_message extends Migration {
  override up(): void {
    const create = this.getKnex().schema.createTable('buffered_message', (t) => {
      t.increments('id').primary();
      t.string('tenant_id', 64).notNullable().references('id').inTable('tenant');
      t.string('name', 200).notNullable();
      t.string('correlation_key', 500);
      t.jsonb('variables').notNullable();
      t.datetime('created_at', { useTz: true }).notNullable();
      t.datetime('expires_at', { useTz: true }).notNullable();
      t.string('claimed_by', 128);
      t.datetime('claimed_at', { useTz: true });
      t.index(['tenant_id', 'name', 'correlation_key', 'id']);
      t.index(['expires_at']);
    });
    for (const statement of create.toSQL()) this.addSql(statement.sql);
  }
}
