import { EntitySchema } from '@mikro-orm/core';
import { DeploymentSchema, type Deployment } from './deployment.js';
import { TenantSchema, type Tenant } from './tenant.js';

export interface ProcessDefinition {
  id: string;
  tenant: Tenant;
  key: string;
  version: number;
  name: string | null;
  xml: string;
  sha256: string;
  deployment: Deployment;
  deployedBy: string | null;
  deployedAt: Date;
}

export const ProcessDefinitionSchema = new EntitySchema<ProcessDefinition>({
  name: 'ProcessDefinition',
  tableName: 'process_definition',
  uniques: [{ properties: ['tenant', 'key', 'version'] }],
  properties: {
    id: { type: 'string', primary: true, length: 255 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    key: { type: 'string' },
    version: { type: 'integer' },
    name: { type: 'string', nullable: true },
    xml: { type: 'text', lazy: true },
    sha256: { type: 'string', length: 64 },
    deployment: { kind: 'm:1', entity: () => DeploymentSchema },
    deployedBy: { type: 'string', nullable: true },
    deployedAt: { type: 'datetime' },
  },
});
