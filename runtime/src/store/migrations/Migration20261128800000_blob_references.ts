import { Migration } from '@mikro-orm/migrations';

/**
 * Blobs looked up by name across tenants (`pectrack blobs sweep --unreferenced`): the existing
 * (tenant_id, sha256) index of uploaded files cannot serve a lookup without the tenant, and
 * messages had none.
 */
export class Migration20261128800000_blob_references extends Migration {
  override up(): void {
    this.addSql('create index message_sha256_index on message (sha256)');
    this.addSql('create index uploaded_file_sha256_index on uploaded_file (sha256)');
  }
}
