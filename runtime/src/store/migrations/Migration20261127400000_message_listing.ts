import { Migration } from '@mikro-orm/migrations';

/**
 * What the message list needs at scale: a tenant's messages newest first (the list without a
 * mailbox filter, the most common request) read in index order instead of sorting all of the
 * tenant's rows for each page; the messages of one sender, whatever the case of the address
 * (an expression index, which SQLite and PostgreSQL both have); and a message by its provider
 * id, which another system asks for to learn whether a PEC reached us.
 */
export class Migration20261127400000_message_listing extends Migration {
  override up(): void {
    this.addSql(
      'create index message_tenant_id_received_at_index on message (tenant_id, received_at)',
    );
    this.addSql('create index message_lower_sender_index on message (lower(sender))');
    this.addSql(
      'create index message_tenant_id_provider_id_index on message (tenant_id, provider_id)',
    );
  }
}
