import { Migration } from '@mikro-orm/migrations';

/**
 * The folders the last sync pass could not read, each with the reason, so the API can show them
 * one by one (a renamed folder, a typo) instead of only inside `last_error`. NULL: none, or no
 * pass has run.
 */
export class Migration20261127300000_mailbox_folder_problems extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('mailbox', (t) => {
      t.jsonb('folder_problems');
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
