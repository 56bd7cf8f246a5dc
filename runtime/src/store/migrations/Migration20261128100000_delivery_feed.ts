import { Migration } from '@mikro-orm/migrations';

/**
 * The delivery feed (intake/delivery-feed.ts) reads the steps of sent messages in the order
 * their transactions committed, as the message feed reads messages: on PostgreSQL each row
 * records its transaction's id, and rows already stored count as one transaction before all
 * others. On SQLite the id is the rowid, which already follows commit order.
 */
export class Migration20261128100000_delivery_feed extends Migration {
  override up(): void {
    if (this.getKnex().client.driverName === 'better-sqlite3') return;
    this.addSql('alter table message_event add column commit_xid bigint not null default 0');
    this.addSql(
      'alter table message_event alter column commit_xid set default (pg_current_xact_id()::text::bigint)',
    );
    this.addSql(
      'create index message_event_tenant_id_commit_xid_id_index on message_event (tenant_id, commit_xid, id)',
    );
  }
}
