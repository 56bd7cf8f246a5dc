import { Migration } from '@mikro-orm/migrations';

/**
 * The sends waiting for a paced mailbox's next slots, in the order they first asked
 * (intake/pacing.ts), so freed slots go to the oldest waiter on every node. NULL: nobody waits.
 */
export class Migration20261128300000_mailbox_sending_queue extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('mailbox', (t) => {
      t.jsonb('smtp_waiting');
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
