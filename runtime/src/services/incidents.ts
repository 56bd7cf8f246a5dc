/** Incidents raised by the engine (failed conditions, expressions, connector calls) and their retry. */
import { NotFoundError } from '../errors.js';
import { IncidentSchema } from '../store/entities/index.js';
import { asConflictIfStale, runCommand } from './command-runner.js';
import { tenantEm, type ServiceContext } from './context.js';
import type { Services } from './types.js';
import { incidentInfo } from './views.js';

export function incidentServices(ctx: ServiceContext): Services['incidents'] {
  return {
    async list(actor, filter) {
      const where: Record<string, unknown> = {};
      if (filter.instanceId) where.instance = filter.instanceId;
      if (filter.status) where.status = filter.status;
      const rows = await tenantEm(ctx, actor.tenantId).find(IncidentSchema, where, {
        orderBy: { createdAt: 'desc', id: 'asc' },
      });
      return rows.map(incidentInfo);
    },

    async retry(actor, id, variables) {
      const incident = await tenantEm(ctx, actor.tenantId).findOne(IncidentSchema, {
        id,
        status: 'open',
      });
      if (!incident) throw new NotFoundError('open Incident', id);
      await asConflictIfStale(`incident ${id} cannot be retried`, () =>
        runCommand(ctx, {
          tenantId: actor.tenantId,
          instanceId: incident.instance.id,
          command: {
            type: 'retryIncident',
            incidentRef: incident.ref,
            ...(variables ? { variables } : {}),
          },
          actor: actor.username,
          retryConflicts: true,
        }),
      );
    },
  };
}
