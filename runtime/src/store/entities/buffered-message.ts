import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';

/**
 * A BPMN message published with a time to live that no instance was waiting for: kept until an
 * instance waits on its name and correlation key, or until it expires (services/message-buffer.ts).
 * `claimedBy` is the subscription it is being delivered to; once claimed it goes to no other.
 */
export interface BufferedMessage {
  /** Grows with each message kept: the order waits take them in. */
  id: number;
  tenant: Tenant;
  name: string;
  /** Null: delivered to the first instance waiting on the name, whatever its key. */
  correlationKey: string | null;
  variables: Record<string, unknown>;
  createdAt: Date;
  expiresAt: Date;
  claimedBy: string | null;
  claimedAt: Date | null;
}

export const BufferedMessageSchema = new EntitySchema<BufferedMessage>({
  name: 'BufferedMessage',
  tableName: 'buffered_message',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    name: { type: 'string', length: 200 },
    correlationKey: { type: 'string', length: 500, nullable: true },
    variables: { type: 'json' },
    createdAt: { type: 'datetime' },
    expiresAt: { type: 'datetime' },
    claimedBy: { type: 'string', length: 128, nullable: true },
    claimedAt: { type: 'datetime', nullable: true },
  },
});

/** A message to keep from `now` for `timeToLiveMs`, unclaimed. */
export function keptMessage(
  tenantId: string,
  message: { name: string; correlationKey?: string | null; variables?: Record<string, unknown> },
  timeToLiveMs: number,
  now: Date,
) {
  return {
    tenant: tenantId,
    name: message.name,
    correlationKey: message.correlationKey ?? null,
    variables: message.variables ?? {},
    createdAt: now,
    expiresAt: new Date(now.getTime() + timeToLiveMs),
    claimedBy: null,
    claimedAt: null,
  };
}
