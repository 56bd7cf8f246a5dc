import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';

export interface User {
  id: string;
  tenant: Tenant;
  username: string;
  passwordHash: string | null;
  displayName: string | null;
  roles: string[];
  active: boolean;
  createdAt: Date;
}

export const UserSchema = new EntitySchema<User>({
  name: 'User',
  tableName: 'app_user',
  uniques: [{ properties: ['tenant', 'username'] }],
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    username: { type: 'string' },
    passwordHash: { type: 'string', nullable: true },
    displayName: { type: 'string', nullable: true },
    roles: { type: 'json' },
    active: { type: 'boolean', default: true },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
  },
});
