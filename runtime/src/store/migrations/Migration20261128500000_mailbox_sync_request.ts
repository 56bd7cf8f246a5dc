import { Migration } from '@mikro-orm/migrations';

/**
 * "Sync now" (or a changed configuration) asked on one node for a mailbox another node watches:
 * the watching session reads this instant and wakes, instead of waiting for its next poll.
 */
export class Migration20261128500000_mailbox_sync_request extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('mailbox', (t) => {
      t.datetime('sync_requested_at', { useTz: true });
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
