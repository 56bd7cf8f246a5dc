import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';
import { UserSchema, type User } from './user.js';

/** Only the SHA-256 of the secret is stored (auth/tokens.ts). */
export interface ApiToken {
  id: string;
  tenant: Tenant;
  name: string;
  tokenHash: string;
  user: User;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export const ApiTokenSchema = new EntitySchema<ApiToken>({
  name: 'ApiToken',
  tableName: 'api_token',
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    name: { type: 'string' },
    tokenHash: { type: 'string', length: 64, unique: true },
    user: { kind: 'm:1', entity: () => UserSchema },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
    lastUsedAt: { type: 'datetime', nullable: true },
    revokedAt: { type: 'datetime', nullable: true },
  },
});
