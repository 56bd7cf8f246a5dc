/**
 * Message correlation: every subscription waiting on the name (and correlation key) is triggered.
 * A message no one waits for is dropped, or kept for its time to live (message-buffer.ts).
 */
import { SubscriptionSchema } from '../store/entities/index.js';
import { isStale, runCommand } from './command-runner.js';
import { tenantEm, type ServiceContext } from './context.js';
import { bufferMessage, deliverKept } from './message-buffer.js';
import type { Services } from './types.js';

export function messageServices(ctx: ServiceContext): Services['messages'] {
  return {
    async correlate(actor, input) {
      const where: Record<string, unknown> = { kind: 'message', messageName: input.name };
      if (input.correlationKey !== undefined && input.correlationKey !== null) {
        where.correlationKey = input.correlationKey;
      }
      const waiting = await tenantEm(ctx, actor.tenantId).find(SubscriptionSchema, where, {
        orderBy: { createdAt: 'asc' },
      });
      const instanceIds: string[] = [];
      for (const subscription of waiting) {
        try {
          await runCommand(ctx, {
            tenantId: actor.tenantId,
            instanceId: subscription.instance.id,
            command: {
              type: 'triggerMessage',
              subscriptionRef: subscription.ref,
              variables: input.variables ?? {},
            },
            actor: actor.username,
            retryConflicts: true,
          });
          instanceIds.push(subscription.instance.id);
        } catch (error) {
          // Consumed by a concurrent correlation or the instance moved on: it no longer waits.
          if (!isStale(error)) throw error;
        }
      }
      if (instanceIds.length > 0 || !input.timeToLiveMs) {
        return { matched: instanceIds.length, instanceIds, buffered: false };
      }
      const taker = await bufferMessage(ctx, actor.tenantId, input, input.timeToLiveMs);
      return taker
        ? { matched: 1, instanceIds: [taker], buffered: false }
        : { matched: 0, instanceIds: [], buffered: true };
    },

    async deliverKept(actor, ids) {
      for (const id of ids) await deliverKept(ctx, actor.tenantId, id);
    },
  };
}
