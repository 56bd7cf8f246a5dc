import { Migration } from '@mikro-orm/migrations';

/**
 * Files uploaded to be sent as attachments of a certified message (POST /api/v1/files): the
 * bytes are a blob, the row says which tenant may use them, under which name and media type.
 */
export class Migration20261128400000_uploaded_file extends Migration {
  override up(): void {
    const create = this.getKnex().schema.createTable('uploaded_file', (t) => {
      t.string('id', 36).primary();
      t.string('tenant_id', 64).notNullable().references('id').inTable('tenant');
      t.string('sha256', 64).notNullable();
      t.integer('size').notNullable();
      t.string('filename', 255).notNullable();
      t.string('content_type', 255).notNullable();
      t.datetime('created_at', { useTz: true }).notNullable();
      t.string('created_by', 255).notNullable();
      t.index(['tenant_id', 'sha256']);
    });
    for (const statement of create.toSQL()) this.addSql(statement.sql);
  }
}
