import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';

/**
 * A file a tenant's user or system put in the blob store to send it (a signed PDF for the
 * certified reply): its bytes are the blob `sha256`, this row is what the tenant may refer to.
 * Blobs are shared by content across tenants; rows are not, so a tenant reads only its own.
 */
export interface UploadedFile {
  id: string;
  tenant: Tenant;
  sha256: string;
  size: number;
  filename: string;
  contentType: string;
  createdAt: Date;
  /** Who uploaded it (user name or token owner). */
  createdBy: string;
}

export const UploadedFileSchema = new EntitySchema<UploadedFile>({
  name: 'UploadedFile',
  tableName: 'uploaded_file',
  properties: {
    id: { type: 'string', length: 36, primary: true },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    sha256: { type: 'string', length: 64 },
    size: { type: 'integer' },
    filename: { type: 'string', length: 255 },
    contentType: { type: 'string', length: 255 },
    createdAt: { type: 'datetime' },
    createdBy: { type: 'string', length: 255 },
  },
});
