import { EntitySchema } from '@mikro-orm/core';
import { ProcessInstanceSchema, type ProcessInstance } from './process-instance.js';
import { TenantSchema, type Tenant } from './tenant.js';

export interface Incident {
  id: string;
  tenant: Tenant;
  instance: ProcessInstance;
  ref: string;
  elementId: string;
  type: string;
  message: string;
  status: 'open' | 'resolved';
  createdAt: Date;
  resolvedAt: Date | null;
}

export const IncidentSchema = new EntitySchema<Incident>({
  name: 'Incident',
  tableName: 'incident',
  properties: {
    id: { type: 'string', primary: true, length: 128 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    instance: { kind: 'm:1', entity: () => ProcessInstanceSchema },
    ref: { type: 'string', length: 64 },
    elementId: { type: 'string' },
    type: { type: 'string', length: 32 },
    message: { type: 'text' },
    status: { type: 'string', length: 16 },
    createdAt: { type: 'datetime' },
    resolvedAt: { type: 'datetime', nullable: true },
  },
});
