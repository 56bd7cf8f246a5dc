import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';

export interface Deployment {
  id: string;
  tenant: Tenant;
  name: string;
  source: string | null;
  deployedBy: string | null;
  deployedAt: Date;
}

export const DeploymentSchema = new EntitySchema<Deployment>({
  name: 'Deployment',
  tableName: 'deployment',
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    name: { type: 'string' },
    source: { type: 'string', nullable: true },
    deployedBy: { type: 'string', nullable: true },
    deployedAt: { type: 'datetime' },
  },
});
