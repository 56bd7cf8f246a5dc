/** The task list and the task commands: claim, unclaim, assign (row updates) and complete (an engine step). */
import { can, requirePermission } from '../auth/permissions.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { TaskSchema, type Task } from '../store/entities/index.js';
import { isStale, runCommand } from './command-runner.js';
import { tenantEm, type ServiceContext } from './context.js';
import type { Actor, Services } from './types.js';
import { taskInfo } from './views.js';

export function taskServices(ctx: ServiceContext): Services['tasks'] {
  const find = async (actor: Actor, id: string): Promise<Task> => {
    const task = await tenantEm(ctx, actor.tenantId).findOne(TaskSchema, { id });
    if (!task) throw new NotFoundError('Task', id);
    return task;
  };

  /** Sets the assignee if the task is still open and `allowed` holds for the current assignee. */
  const setAssignee = async (
    actor: Actor,
    id: string,
    assignee: string | null,
    onlyIfFreeFor?: string,
  ) => {
    const where: Record<string, unknown> = { id, status: 'open' };
    if (onlyIfFreeFor) where.$or = [{ assignee: null }, { assignee: onlyIfFreeFor }];
    const updated = await tenantEm(ctx, actor.tenantId).nativeUpdate(TaskSchema, where, {
      assignee,
    });
    const task = await find(actor, id);
    if (!updated) {
      const why =
        task.status !== 'open' ? `is ${task.status}` : `is already claimed by ${task.assignee}`;
      throw new ConflictError(`task ${id} ${why}`, {
        taskId: id,
        status: task.status,
        assignee: task.assignee,
      });
    }
    return taskInfo(task);
  };

  return {
    async list(actor, filter) {
      const where: Record<string, unknown> = {};
      if (filter.instanceId) where.instance = filter.instanceId;
      if (filter.assignee) where.assignee = filter.assignee;
      if (filter.status) where.status = filter.status;
      if (filter.dueBefore) where.dueAt = { $lt: new Date(filter.dueBefore) };
      if (filter.candidateOffice)
        where.candidateOffices = { $like: containsJson(filter.candidateOffice) };
      if (filter.candidateUser)
        where.candidateUsers = { $like: containsJson(filter.candidateUser) };
      const rows = await tenantEm(ctx, actor.tenantId).find(TaskSchema, where, {
        orderBy: { priority: 'desc', createdAt: 'asc', id: 'asc' },
        limit: filter.limit ?? 100,
        offset: filter.offset ?? 0,
      });
      return rows
        .map(taskInfo)
        .filter(
          (t) =>
            (!filter.candidateOffice || t.candidateOffices.includes(filter.candidateOffice)) &&
            (!filter.candidateUser || t.candidateUsers.includes(filter.candidateUser)),
        );
    },

    async get(actor, id) {
      return taskInfo(await find(actor, id));
    },

    claim: (actor, id, userId) => {
      const who = userId ?? actor.username;
      // Claiming for someone else is assigning (Camunda's claim takes a userId).
      if (who !== actor.username) requirePermission(actor, 'tasks:assign');
      return setAssignee(actor, id, who, who);
    },
    // A claim is exclusive: only its holder, or whoever may assign, lets it go.
    unclaim: (actor, id) =>
      can(actor, 'tasks:assign')
        ? setAssignee(actor, id, null)
        : setAssignee(actor, id, null, actor.username),
    assign: (actor, id, assignee) => setAssignee(actor, id, assignee),

    async complete(actor, id, variables = {}) {
      const { instanceId, taskRef } = parseTaskId(id);
      refuseOthersTask(actor, await find(actor, id));
      try {
        await runCommand(ctx, {
          tenantId: actor.tenantId,
          instanceId,
          command: { type: 'completeTask', taskRef, variables },
          actor: actor.username,
          retryConflicts: false,
        });
      } catch (error) {
        if (error instanceof NotFoundError) throw new NotFoundError('Task', id);
        if (!isStale(error)) throw error;
        const task = await find(actor, id);
        throw new ConflictError(`task ${id} is ${task.status}`, {
          taskId: id,
          status: task.status,
        });
      }
    },
  };
}

/**
 * A task assigned or claimed is its holder's to complete (its variables decide the case): another
 * clerk completing it would take the decision over. Whoever may assign may also complete it.
 */
function refuseOthersTask(actor: Actor, task: Task): void {
  if (task.assignee === null || task.assignee === actor.username) return;
  if (can(actor, 'tasks:assign')) return;
  throw new ConflictError(`task ${task.id} is assigned to ${task.assignee}`, {
    taskId: task.id,
    assignee: task.assignee,
  });
}

/** Task ids are `${instanceId}:${taskRef}`; instance ids never contain ':'. */
function parseTaskId(id: string): { instanceId: string; taskRef: string } {
  const colon = id.indexOf(':');
  if (colon <= 0 || colon === id.length - 1) throw new NotFoundError('Task', id);
  return { instanceId: id.slice(0, colon), taskRef: id.slice(colon + 1) };
}

/**
 * A LIKE pattern for `value` as one element of a JSON string array. LIKE escaping differs
 * between databases, so wildcards in `value` may over-match; `list` drops those rows.
 */
function containsJson(value: string): string {
  return `%${JSON.stringify(value)}%`;
}
