/**
 * Pure translation of one engine step into the rows it writes: the state document, task,
 * subscription, incident and history rows, and one outbox row per external effect.
 * Engine refs are local to an instance; rows get global ids `${instanceId}:${ref}`.
 */
import type { Effect, StepResult } from '../engine/types.js';
import type { InstanceChange, InstanceRecord, OutboxRecord } from '../store/commands/index.js';
import { emptyChange } from '../store/commands/index.js';

export interface StepContext {
  /** The instance as loaded; null for a start. */
  before: InstanceRecord | null;
  instanceId: string;
  tenantId: string;
  definitionId: string;
  businessKey: string | null;
  now: Date;
  /** Who issued the command, recorded on the tasks it completes. */
  actor: string | null;
  /** The task the command completes, if any. */
  completedTaskRef?: string;
}

export const globalId = (instanceId: string, ref: string): string => `${instanceId}:${ref}`;

export function changeFromStep(ctx: StepContext, result: StepResult): InstanceChange {
  const version = (ctx.before?.version ?? 0) + 1;
  const instance: InstanceRecord = {
    id: ctx.instanceId,
    tenantId: ctx.tenantId,
    definitionId: ctx.definitionId,
    businessKey: ctx.before?.businessKey ?? ctx.businessKey,
    status: result.state.status,
    state: result.state,
    version,
    startedAt: ctx.before?.startedAt ?? ctx.now,
    endedAt: ctx.before?.endedAt ?? null,
    hasIncident: ctx.before?.hasIncident ?? false,
  };
  const change = emptyChange(instance, ctx.before ? ctx.before.version : null);
  if (ctx.completedTaskRef) {
    change.tasksClosed.push({
      id: globalId(ctx.instanceId, ctx.completedTaskRef),
      status: 'completed',
      at: ctx.now,
      by: ctx.actor,
    });
  }
  for (const effect of result.effects) applyEffect(ctx, change, effect, version);
  return withoutTransients(change);
}

/**
 * A task or subscription created and closed by the same step (a parallel branch reached a
 * terminate end event) was never visible to anyone: neither row is written. Batched
 * writers may then apply a change's rows in any order.
 */
function withoutTransients(change: InstanceChange): InstanceChange {
  const closedTasks = new Set(change.tasksClosed.map((c) => c.id));
  const transientTasks = new Set(
    change.tasksCreated.filter((t) => closedTasks.has(t.id)).map((t) => t.id),
  );
  const removed = new Set(change.subscriptionsRemoved);
  const transientWaits = new Set(
    change.subscriptionsCreated.filter((s) => removed.has(s.id)).map((s) => s.id),
  );
  if (!transientTasks.size && !transientWaits.size) return change;
  return {
    ...change,
    tasksCreated: change.tasksCreated.filter((t) => !transientTasks.has(t.id)),
    tasksClosed: change.tasksClosed.filter((c) => !transientTasks.has(c.id)),
    subscriptionsCreated: change.subscriptionsCreated.filter((s) => !transientWaits.has(s.id)),
    subscriptionsRemoved: change.subscriptionsRemoved.filter((id) => !transientWaits.has(id)),
  };
}

function applyEffect(
  ctx: StepContext,
  change: InstanceChange,
  effect: Effect,
  version: number,
): void {
  const { instanceId, tenantId, now } = ctx;
  const outbox = (
    kind: OutboxRecord['kind'],
    ref: string,
    payload: Record<string, unknown>,
  ): void => {
    change.outbox.push({
      tenantId,
      instanceId,
      kind,
      payload: { tenantId, instanceId, ...payload },
      // The version makes the key unique even if the engine reuses a ref (timer cycles, loops).
      idempotencyKey: `${kind}:${instanceId}:${ref}:${version}`,
      nextAttemptAt: now,
      createdAt: now,
    });
  };
  switch (effect.type) {
    case 'createTask':
      change.tasksCreated.push({
        id: globalId(instanceId, effect.taskRef),
        tenantId,
        instanceId,
        definitionId: ctx.definitionId,
        taskRef: effect.taskRef,
        elementId: effect.elementId,
        name: effect.task.name,
        kind: effect.task.kind,
        assignee: effect.task.assignee,
        candidateUsers: effect.task.candidateUsers,
        candidateOffices: effect.task.candidateOffices,
        dueAt: effect.task.dueAt ? new Date(effect.task.dueAt) : null,
        priority: effect.task.priority,
        formKey: effect.task.formKey,
        createdAt: now,
      });
      return;
    case 'cancelTask':
      change.tasksClosed.push({
        id: globalId(instanceId, effect.taskRef),
        status: 'cancelled',
        at: now,
        by: ctx.actor,
      });
      return;
    case 'scheduleTimer':
      change.subscriptionsCreated.push({
        id: globalId(instanceId, effect.timerRef),
        tenantId,
        instanceId,
        ref: effect.timerRef,
        kind: 'timer',
        elementId: effect.elementId,
        messageName: null,
        correlationKey: null,
        timerDueAt: new Date(effect.dueAt),
        createdAt: now,
      });
      outbox('scheduleTimer', effect.timerRef, {
        timerRef: effect.timerRef,
        elementId: effect.elementId,
        dueAt: effect.dueAt,
      });
      return;
    case 'cancelTimer':
      change.subscriptionsRemoved.push(globalId(instanceId, effect.timerRef));
      outbox('cancelTimer', effect.timerRef, { timerRef: effect.timerRef });
      return;
    case 'subscribe':
      change.subscriptionsCreated.push({
        id: globalId(instanceId, effect.subscriptionRef),
        tenantId,
        instanceId,
        ref: effect.subscriptionRef,
        kind: 'message',
        elementId: effect.elementId,
        messageName: effect.messageName,
        correlationKey: effect.correlationKey,
        timerDueAt: null,
        createdAt: now,
      });
      return;
    case 'unsubscribe':
      change.subscriptionsRemoved.push(globalId(instanceId, effect.subscriptionRef));
      return;
    case 'invokeConnector':
      outbox('invokeConnector', effect.jobRef, {
        jobRef: effect.jobRef,
        retries: effect.retries,
        elementId: effect.elementId,
        connectorType: effect.connectorType,
        input: effect.input,
      });
      return;
    case 'incident':
      change.instance.hasIncident = true;
      change.incidentsOpened.push({
        id: globalId(instanceId, effect.incidentRef),
        tenantId,
        instanceId,
        ref: effect.incidentRef,
        elementId: effect.elementId,
        type: effect.incidentType,
        message: effect.message,
        createdAt: now,
      });
      return;
    case 'incidentResolved':
      change.incidentsResolved.push({ id: globalId(instanceId, effect.incidentRef), at: now });
      return;
    case 'ended':
      change.instance.status = effect.status;
      change.instance.endedAt = now;
      return;
    case 'history':
      change.history.push({
        tenantId,
        instanceId,
        at: now,
        event: effect.event,
        elementId: effect.elementId,
        elementType: effect.elementType,
        data: effect.data ?? null,
      });
      return;
  }
}
