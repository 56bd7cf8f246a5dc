/**
 * One command = load the instance, `step` the engine, commit the resulting change with
 * the optimistic lock. User commands surface a lost lock as ConflictError (409);
 * internal ones (timers, connector results, correlation) reload and try again.
 */
import { CommandRejected, type Command, type StepResult } from '../engine/types.js';
import { step } from '../engine/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import type { InstanceChange, InstanceRecord } from '../store/commands/index.js';
import type { ServiceContext } from './context.js';
import { knexOf } from '../store/orm.js';
import { changeFromStep } from './effects.js';
import { deliverBuffered } from './message-buffer.js';

const INTERNAL_ATTEMPTS = 10;

export interface RunOptions {
  tenantId: string;
  instanceId: string;
  command: Command;
  actor: string | null;
  /** Reload and retry on a lost optimistic lock instead of failing with 409. */
  retryConflicts: boolean;
}

export type RunResult = { instance: InstanceRecord; change: InstanceChange };

export async function runCommand(ctx: ServiceContext, options: RunOptions): Promise<RunResult> {
  const attempts = options.retryConflicts ? INTERNAL_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const before = await loadInstance(ctx, options.tenantId, options.instanceId);
    const change = await stepAndDescribe(ctx, before, options);
    const [outcome] = await ctx.commands.commit([change]);
    if (outcome!.ok) {
      await afterCommit(ctx, change);
      return { instance: change.instance, change };
    }
    if (!outcome!.conflict) throw outcome!.error;
    if (attempt >= attempts) {
      throw new ConflictError(`process instance ${options.instanceId} was changed concurrently`, {
        instanceId: options.instanceId,
      });
    }
  }
}

/**
 * What follows a committed change: the outbox dispatcher is woken for its rows, and each message
 * wait it created takes a message kept for it (services/message-buffer.ts). The command stands
 * when that delivery fails: it is logged, and the buffer's sweep job delivers the message later.
 */
export async function afterCommit(ctx: ServiceContext, change: InstanceChange): Promise<void> {
  if (change.outbox.length) ctx.outboxWritten();
  if (!change.subscriptionsCreated.some((s) => s.kind === 'message')) return;
  try {
    await deliverBuffered(ctx, change);
  } catch (error) {
    ctx.log.warn(
      { instanceId: change.instance.id, err: error },
      'handing kept messages to the new waits failed; the message buffer job retries',
    );
  }
}

async function loadInstance(
  ctx: ServiceContext,
  tenantId: string,
  id: string,
): Promise<InstanceRecord> {
  const found = (await ctx.commands.loadInstances([id])).get(id);
  if (!found || found.tenantId !== tenantId) throw new NotFoundError('ProcessInstance', id);
  return found;
}

async function stepAndDescribe(
  ctx: ServiceContext,
  before: InstanceRecord,
  options: RunOptions,
): Promise<InstanceChange> {
  const definition = await ctx.definitions.get(options.tenantId, before.definitionId);
  const now = ctx.now();
  const result: StepResult = stepOrExplain(() =>
    step(definition.process, before.state, options.command, now),
  );
  const change = changeFromStep(
    {
      before,
      instanceId: before.id,
      tenantId: options.tenantId,
      definitionId: before.definitionId,
      businessKey: before.businessKey,
      now,
      actor: options.actor,
      completedTaskRef:
        options.command.type === 'completeTask' ? options.command.taskRef : undefined,
    },
    result,
  );
  if (change.incidentsResolved.length && !change.incidentsOpened.length) {
    change.instance.hasIncident = await othersStillOpen(ctx, change);
  }
  return change;
}

async function othersStillOpen(ctx: ServiceContext, change: InstanceChange): Promise<boolean> {
  const resolved = change.incidentsResolved.map((r) => r.id);
  const row = (await knexOf(ctx.orm)
    .count({ n: '*' })
    .from('incident')
    .where({ instance_id: change.instance.id, status: 'open' })
    .whereNotIn('id', resolved)
    .first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0) > 0;
}

/** A command the engine refuses as malformed is the caller's mistake (400); stale refs stay as they are. */
export function stepOrExplain(run: () => StepResult): StepResult {
  try {
    return run();
  } catch (error) {
    if (error instanceof CommandRejected && error.code === 'invalid-command') {
      throw new BadRequestError('invalid-command', error.message);
    }
    throw error;
  }
}

/** A user command on something that no longer waits (already ended, already retried) is a 409. */
export async function asConflictIfStale<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isStale(error)) throw new ConflictError(`${what}: ${error.message}`);
    throw error;
  }
}

/** True when `error` says the ref the command named is no longer waiting (already consumed). */
export function isStale(error: unknown): error is CommandRejected {
  return (
    error instanceof CommandRejected &&
    (error.code === 'unknown-ref' || error.code === 'instance-ended')
  );
}
