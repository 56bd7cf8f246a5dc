import { EntitySchema } from '@mikro-orm/core';

export interface Tenant {
  id: string;
  name: string;
  createdAt: Date;
}

export const TenantSchema = new EntitySchema<Tenant>({
  name: 'Tenant',
  tableName: 'tenant',
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    name: { type: 'string' },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
  },
});
