import { EntitySchema } from '@mikro-orm/core';
import { ProcessInstanceSchema, type ProcessInstance } from './process-instance.js';
import { TenantSchema, type Tenant } from './tenant.js';

/**
 * A user or manual task, id `${instanceId}:${taskRef}`. Candidate lists are JSON text
 * so "is this office a candidate" is a portable LIKE on every database.
 */
export interface Task {
  id: string;
  tenant: Tenant;
  instance: ProcessInstance;
  definitionId: string;
  taskRef: string;
  elementId: string;
  name: string | null;
  kind: 'user' | 'manual';
  status: 'open' | 'completed' | 'cancelled';
  assignee: string | null;
  candidateUsers: string;
  candidateOffices: string;
  dueAt: Date | null;
  priority: number;
  formKey: string | null;
  createdAt: Date;
  completedAt: Date | null;
  completedBy: string | null;
}

export const TaskSchema = new EntitySchema<Task>({
  name: 'Task',
  tableName: 'task',
  properties: {
    id: { type: 'string', primary: true, length: 128 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    instance: { kind: 'm:1', entity: () => ProcessInstanceSchema },
    definitionId: { type: 'string' },
    taskRef: { type: 'string', length: 64 },
    elementId: { type: 'string' },
    name: { type: 'string', nullable: true },
    kind: { type: 'string', length: 16 },
    status: { type: 'string', length: 16 },
    assignee: { type: 'string', nullable: true },
    candidateUsers: { type: 'text' },
    candidateOffices: { type: 'text' },
    dueAt: { type: 'datetime', nullable: true },
    priority: { type: 'integer' },
    formKey: { type: 'string', nullable: true },
    createdAt: { type: 'datetime' },
    completedAt: { type: 'datetime', nullable: true },
    completedBy: { type: 'string', nullable: true },
  },
});
