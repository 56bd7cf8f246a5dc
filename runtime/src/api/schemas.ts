/** zod schemas shared by the /api/v1 routes: they validate input and document output. */
import { z } from 'zod';
import { queryInteger } from './query-integer.js';

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const Variables = z
  .record(
    z
      .string()
      .regex(
        VARIABLE_NAME,
        'a variable name is letters, digits and "_", not starting with a digit',
      ),
    z.json(),
  )
  .describe('Process variables: name → any JSON value');

export const Id = z.string().min(1).max(200);
export const IdParams = z.object({ id: Id });

export const Paging = {
  limit: queryInteger(z.number().int().min(1).max(1000).optional()),
  offset: queryInteger(z.number().int().min(0).optional()),
};

export const QueryBoolean = z.enum(['true', 'false']).transform((value) => value === 'true');

export const Instant = z.iso.datetime({ offset: true });

export const DefinitionInfo = z.object({
  id: z.string(),
  key: z.string(),
  version: z.number().int(),
  name: z.string().nullable(),
  sha256: z.string(),
  deploymentId: z.string(),
  deployedBy: z.string().nullable(),
  deployedAt: z.string(),
});

export const DeployResult = z.object({
  deploymentId: z.string(),
  name: z.string(),
  deployedAt: z.string(),
  definitions: z.array(DefinitionInfo),
  /** Deployed, but will not run on this node as it is (a connector type not installed). */
  warnings: z.array(
    z.object({ path: z.string(), elementId: z.string(), type: z.string(), reason: z.string() }),
  ),
});

export const InstanceStatus = z.enum(['active', 'completed', 'terminated']);

export const InstanceInfo = z.object({
  id: z.string(),
  definitionId: z.string(),
  definitionKey: z.string(),
  definitionVersion: z.number().int(),
  businessKey: z.string().nullable(),
  status: InstanceStatus,
  hasIncident: z.boolean(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  variables: z.record(z.string(), z.unknown()),
});

export const IncidentInfo = z.object({
  id: z.string(),
  instanceId: z.string(),
  elementId: z.string(),
  type: z.string(),
  message: z.string(),
  status: z.enum(['open', 'resolved']),
  createdAt: z.string(),
});

export const HistoryInfo = z.object({
  id: z.string(),
  at: z.string(),
  event: z.string(),
  elementId: z.string().nullable(),
  elementType: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
});

export const InstanceDetail = InstanceInfo.extend({
  state: z.unknown(),
  history: z.array(HistoryInfo),
  incidents: z.array(IncidentInfo),
});

export const TaskStatus = z.enum(['open', 'completed', 'cancelled']);

export const TaskInfo = z.object({
  id: z.string(),
  instanceId: z.string(),
  definitionId: z.string(),
  elementId: z.string(),
  name: z.string().nullable(),
  kind: z.enum(['user', 'manual']),
  status: TaskStatus,
  assignee: z.string().nullable(),
  candidateUsers: z.array(z.string()),
  candidateOffices: z.array(z.string()),
  dueAt: z.string().nullable(),
  priority: z.number(),
  formKey: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
