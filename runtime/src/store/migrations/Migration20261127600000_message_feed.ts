import { Migration } from '@mikro-orm/migrations';

/**
 * The message feed (intake/feed.ts) reads messages in the order their transactions committed.
 * On PostgreSQL each row records its transaction's id; rows already stored count as one
 * transaction before all others. SQLite, with one writer at a time, needs nothing: its rowid
 * already follows commit order.
 */
export class Migration20261127600000_message_feed extends Migration {
  override up(): void {
    if (this.getKnex().client.driverName === 'better-sqlite3') return;
    this.addSql('alter table message add column commit_xid bigint not null default 0');
    this.addSql(
      'alter table message alter column commit_xid set default (pg_current_xact_id()::text::bigint)',
    );
    this.addSql(
      'create index message_tenant_id_commit_xid_id_index on message (tenant_id, commit_xid, id)',
    );
  }
}
