/**
 * Commands the runtime issues to itself (scheduler jobs): they retry on a lost lock and
 * treat a ref that no longer waits as already handled, which makes redelivery after a
 * crash harmless.
 */
import { awaitsJob as instanceAwaitsJob } from '../engine/index.js';
import type { Command, ConnectorJob } from '../engine/types.js';
import { isStale, runCommand } from './command-runner.js';
import type { ServiceContext } from './context.js';
import { redeliverBuffered } from './message-buffer.js';

export type InternalOutcome = 'applied' | 'stale';

export interface InternalCommands {
  triggerTimer(tenantId: string, instanceId: string, timerRef: string): Promise<InternalOutcome>;
  connectorResult(
    tenantId: string,
    instanceId: string,
    job: ConnectorJob,
    result: { ok: true; output: Record<string, unknown> } | { ok: false; error: string },
  ): Promise<InternalOutcome>;
  /** Whether the instance still waits for the result of this connector job. */
  awaitsJob(tenantId: string, instanceId: string, job: ConnectorJob): Promise<boolean>;
  /** Finishes buffered-message deliveries a crash interrupted; returns how many were delivered. */
  redeliverBufferedMessages(): Promise<number>;
}

export function internalCommands(ctx: ServiceContext): InternalCommands {
  const run = async (
    tenantId: string,
    instanceId: string,
    command: Command,
  ): Promise<InternalOutcome> => {
    try {
      await runCommand(ctx, { tenantId, instanceId, command, actor: null, retryConflicts: true });
      return 'applied';
    } catch (error) {
      if (isStale(error)) return 'stale';
      throw error;
    }
  };
  return {
    triggerTimer: (tenantId, instanceId, timerRef) =>
      run(tenantId, instanceId, { type: 'triggerTimer', timerRef }),
    connectorResult: (tenantId, instanceId, job, result) =>
      run(tenantId, instanceId, {
        type: 'connectorResult',
        jobRef: job.jobRef,
        retries: job.retries,
        ...result,
      }),
    async awaitsJob(tenantId, instanceId, job) {
      const found = (await ctx.commands.loadInstances([instanceId])).get(instanceId);
      if (!found || found.tenantId !== tenantId) return false;
      return instanceAwaitsJob(found.state, job);
    },
    redeliverBufferedMessages: () => redeliverBuffered(ctx),
  };
}
