import { Migration } from '@mikro-orm/migrations';

/**
 * How fast a mailbox may submit (providers throttle: InfoCert takes 6 messages a minute) and
 * when its last submissions went, so every node paces one mailbox together. NULL: no limit, and
 * nothing sent yet.
 */
export class Migration20261127500000_mailbox_sending_pace extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('mailbox', (t) => {
      t.integer('smtp_max_per_minute');
      t.jsonb('smtp_recent_submissions');
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
