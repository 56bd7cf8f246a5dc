import { EntitySchema } from '@mikro-orm/core';
import type { InstanceState } from '../../engine/types.js';
import { ProcessDefinitionSchema, type ProcessDefinition } from './process-definition.js';
import { TenantSchema, type Tenant } from './tenant.js';

/**
 * The execution state is one JSON document (ARCHITECTURE §3) so the row stays
 * document-shaped; `version` is the optimistic lock the command path checks.
 */
export interface ProcessInstance {
  id: string;
  tenant: Tenant;
  definition: ProcessDefinition;
  businessKey: string | null;
  status: 'active' | 'completed' | 'terminated';
  state: InstanceState;
  version: number;
  startedAt: Date;
  endedAt: Date | null;
  hasIncident: boolean;
}

export const ProcessInstanceSchema = new EntitySchema<ProcessInstance>({
  name: 'ProcessInstance',
  tableName: 'process_instance',
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    definition: { kind: 'm:1', entity: () => ProcessDefinitionSchema },
    businessKey: { type: 'string', nullable: true },
    status: { type: 'string', length: 16 },
    state: { type: 'json' },
    version: { type: 'integer' },
    startedAt: { type: 'datetime' },
    endedAt: { type: 'datetime', nullable: true },
    hasIncident: { type: 'boolean' },
  },
});
