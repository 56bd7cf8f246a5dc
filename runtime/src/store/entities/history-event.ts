import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';

export interface HistoryEvent {
  id: number;
  tenant: Tenant;
  instanceId: string;
  at: Date;
  event: string;
  elementId: string | null;
  elementType: string | null;
  data: Record<string, unknown> | null;
}

export const HistoryEventSchema = new EntitySchema<HistoryEvent>({
  name: 'HistoryEvent',
  tableName: 'history_event',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    instanceId: { type: 'string' },
    at: { type: 'datetime' },
    event: { type: 'string', length: 32 },
    elementId: { type: 'string', nullable: true },
    elementType: { type: 'string', nullable: true },
    data: { type: 'json', nullable: true },
  },
});
