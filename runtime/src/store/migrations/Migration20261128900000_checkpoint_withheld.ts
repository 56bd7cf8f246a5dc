import { Migration } from '@mikro-orm/migrations';

/**
 * The message a folder's sync is held at: a UID the server lists but does not return whole. The
 * folder stops before it, pass after pass, until the server sends it or enough passes and time
 * have gone by to record it without its content (folder-sync.ts). Kept with the position so the
 * count survives a restart.
 */
export class Migration20261128900000_checkpoint_withheld extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('mailbox_checkpoint', (t) => {
      t.integer('withheld_uid');
      t.integer('withheld_passes');
      t.datetime('withheld_since');
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
