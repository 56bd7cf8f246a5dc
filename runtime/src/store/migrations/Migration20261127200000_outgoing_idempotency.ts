import { Migration } from '@mikro-orm/migrations';

/**
 * The idempotency key of the call that asked for an outgoing message, so a retried process task
 * finds the message it already recorded instead of certifying a second one. Unique per tenant;
 * incoming messages (and sends without a key) leave it NULL, which both SQLite and PostgreSQL
 * let repeat under a unique index.
 */
export class Migration20261127200000_outgoing_idempotency extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('message', (t) => {
      t.string('idempotency_key');
      t.unique(['tenant_id', 'idempotency_key']);
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
