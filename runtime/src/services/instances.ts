/** Starting, reading and cancelling process instances. */
import { uuidv7 } from '../store/ids.js';
import { step } from '../engine/index.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import {
  HistoryEventSchema,
  IncidentSchema,
  ProcessInstanceSchema,
  type ProcessInstance,
} from '../store/entities/index.js';
import type { InstanceRecord } from '../store/commands/index.js';
import { afterCommit, asConflictIfStale, runCommand, stepOrExplain } from './command-runner.js';
import { tenantEm, type ServiceContext } from './context.js';
import type { LoadedDefinition } from './definition-cache.js';
import { changeFromStep } from './effects.js';
import type { Actor, InstanceInfo, Services } from './types.js';
import { createdTaskInfo, historyInfo, incidentInfo, instanceInfo } from './views.js';

export function instanceServices(ctx: ServiceContext): Services['instances'] {
  const describe = async (tenantId: string, record: InstanceRecord): Promise<InstanceInfo> =>
    instanceInfo(record, (await ctx.definitions.get(tenantId, record.definitionId)).info);

  return {
    async start(actor, input) {
      const definition = await resolveDefinition(ctx, actor, input);
      const now = ctx.now();
      const instanceId = uuidv7();
      const businessKey = input.businessKey ?? null;
      const result = stepOrExplain(() =>
        step(
          definition.process,
          null,
          { type: 'start', variables: input.variables ?? {}, businessKey },
          now,
        ),
      );
      const change = changeFromStep(
        {
          before: null,
          instanceId,
          tenantId: actor.tenantId,
          definitionId: definition.info.id,
          businessKey,
          now,
          actor: actor.username,
        },
        result,
      );
      const [outcome] = await ctx.commands.commit([change]);
      if (!outcome!.ok)
        throw outcome!.conflict ? new Error(`instance id ${instanceId} collided`) : outcome!.error;
      await afterCommit(ctx, change);
      return {
        ...instanceInfo(change.instance, definition.info),
        tasks: change.tasksCreated.map(createdTaskInfo),
      };
    },

    async list(actor, filter) {
      const em = tenantEm(ctx, actor.tenantId);
      const where: Record<string, unknown> = {};
      if (filter.definitionKey) where.definition = { key: filter.definitionKey };
      if (filter.businessKey) where.businessKey = filter.businessKey;
      if (filter.status) where.status = filter.status;
      if (filter.hasIncident !== undefined) where.hasIncident = filter.hasIncident;
      const rows = await em.find(ProcessInstanceSchema, where, {
        orderBy: { startedAt: 'desc', id: 'asc' },
        limit: filter.limit ?? 100,
        offset: filter.offset ?? 0,
      });
      return Promise.all(rows.map((row) => describe(actor.tenantId, recordOf(row))));
    },

    async get(actor, id) {
      const em = tenantEm(ctx, actor.tenantId);
      const row = await em.findOne(ProcessInstanceSchema, { id });
      if (!row) throw new NotFoundError('ProcessInstance', id);
      const [history, incidents] = await Promise.all([
        em.find(HistoryEventSchema, { instanceId: id }, { orderBy: { id: 'asc' } }),
        em.find(IncidentSchema, { instance: id }, { orderBy: { createdAt: 'asc' } }),
      ]);
      return {
        ...(await describe(actor.tenantId, recordOf(row))),
        state: row.state,
        history: history.map(historyInfo),
        incidents: incidents.map(incidentInfo),
      };
    },

    async cancel(actor, id, reason) {
      const { instance } = await asConflictIfStale(
        `process instance ${id} cannot be cancelled`,
        () =>
          runCommand(ctx, {
            tenantId: actor.tenantId,
            instanceId: id,
            command: { type: 'cancel', reason },
            actor: actor.username,
            retryConflicts: true,
          }),
      );
      return describe(actor.tenantId, instance);
    },
  };
}

async function resolveDefinition(
  ctx: ServiceContext,
  actor: Actor,
  input: { definitionKey?: string; definitionId?: string },
): Promise<LoadedDefinition> {
  if (input.definitionId) return ctx.definitions.get(actor.tenantId, input.definitionId);
  if (input.definitionKey) return ctx.definitions.latestByKey(actor.tenantId, input.definitionKey);
  throw new BadRequestError('missing-definition', 'definitionKey or definitionId is required', {
    field: 'definitionKey',
  });
}

function recordOf(row: ProcessInstance): InstanceRecord {
  return {
    id: row.id,
    tenantId: row.tenant.id,
    definitionId: row.definition.id,
    businessKey: row.businessKey,
    status: row.status,
    state: row.state,
    version: row.version,
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    hasIncident: row.hasIncident,
  };
}
