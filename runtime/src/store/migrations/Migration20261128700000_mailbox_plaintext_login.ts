import { Migration } from '@mikro-orm/migrations';

/**
 * Whether a mailbox may log in over a connection that stays in plain text (`tls` false and no
 * STARTTLS offered). False for every mailbox, those already configured included: before this,
 * such a server silently got the password in clear; now it is refused with a reason that names
 * the setting, and whoever runs the server on a trusted network turns it on knowingly.
 */
export class Migration20261128700000_mailbox_plaintext_login extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('mailbox', (t) => {
      t.boolean('imap_allow_plaintext').notNullable().defaultTo(false);
      t.boolean('smtp_allow_plaintext').notNullable().defaultTo(false);
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
