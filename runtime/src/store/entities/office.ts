import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';
import { UserSchema, type User } from './user.js';

export interface Office {
  id: string;
  tenant: Tenant;
  code: string;
  name: string;
  parent: Office | null;
  head: User | null;
}

export const OfficeSchema: EntitySchema<Office> = new EntitySchema<Office>({
  name: 'Office',
  tableName: 'office',
  uniques: [{ properties: ['tenant', 'code'] }],
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    code: { type: 'string' },
    name: { type: 'string' },
    parent: { kind: 'm:1', entity: () => OfficeSchema, nullable: true },
    head: { kind: 'm:1', entity: () => UserSchema, nullable: true },
  },
});
