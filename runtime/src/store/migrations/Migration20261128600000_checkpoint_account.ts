import { Migration } from '@mikro-orm/migrations';

/**
 * The IMAP account a folder position was read on: a mailbox moved to another account or server
 * must read that one from its first message, even when both folders have the same UIDVALIDITY
 * (Dovecot dates it to the second a folder was created; some servers give every INBOX 1).
 * Positions written before stay without one and keep counting.
 */
export class Migration20261128600000_checkpoint_account extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('mailbox_checkpoint', (t) => {
      t.text('account');
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
