import { EntitySchema } from '@mikro-orm/core';
import { ProcessInstanceSchema, type ProcessInstance } from './process-instance.js';
import { TenantSchema, type Tenant } from './tenant.js';

/** A wait of an instance on a message (name + correlation key) or on a timer. */
export interface Subscription {
  id: string;
  tenant: Tenant;
  instance: ProcessInstance;
  ref: string;
  kind: 'message' | 'timer';
  elementId: string;
  messageName: string | null;
  correlationKey: string | null;
  timerDueAt: Date | null;
  createdAt: Date;
}

export const SubscriptionSchema = new EntitySchema<Subscription>({
  name: 'Subscription',
  tableName: 'subscription',
  properties: {
    id: { type: 'string', primary: true, length: 128 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    instance: { kind: 'm:1', entity: () => ProcessInstanceSchema },
    ref: { type: 'string', length: 64 },
    kind: { type: 'string', length: 16 },
    elementId: { type: 'string' },
    messageName: { type: 'string', nullable: true },
    correlationKey: { type: 'string', nullable: true },
    timerDueAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime' },
  },
});
