/** Rows and records as the public shapes of services/types.ts. */
import type { HistoryEvent, Incident, Task } from '../store/entities/index.js';
import type { InstanceRecord, TaskRecord } from '../store/commands/index.js';
import type { DefinitionInfo, HistoryInfo, IncidentInfo, InstanceInfo, TaskInfo } from './types.js';

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function instanceInfo(record: InstanceRecord, definition: DefinitionInfo): InstanceInfo {
  return {
    id: record.id,
    definitionId: definition.id,
    definitionKey: definition.key,
    definitionVersion: definition.version,
    businessKey: record.businessKey,
    status: record.status,
    hasIncident: record.hasIncident,
    startedAt: record.startedAt.toISOString(),
    endedAt: iso(record.endedAt),
    variables: record.state.variables ?? {},
  };
}

/** A task row as the command path wrote it: open, not yet claimed or completed. */
export function createdTaskInfo(task: TaskRecord): TaskInfo {
  return {
    id: task.id,
    instanceId: task.instanceId,
    definitionId: task.definitionId,
    elementId: task.elementId,
    name: task.name,
    kind: task.kind,
    status: 'open',
    assignee: task.assignee,
    candidateUsers: task.candidateUsers,
    candidateOffices: task.candidateOffices,
    dueAt: iso(task.dueAt),
    priority: task.priority,
    formKey: task.formKey,
    createdAt: task.createdAt.toISOString(),
    completedAt: null,
  };
}

export function taskInfo(task: Task): TaskInfo {
  return {
    id: task.id,
    instanceId: task.instance.id,
    definitionId: task.definitionId,
    elementId: task.elementId,
    name: task.name,
    kind: task.kind,
    status: task.status,
    assignee: task.assignee,
    candidateUsers: JSON.parse(task.candidateUsers) as string[],
    candidateOffices: JSON.parse(task.candidateOffices) as string[],
    dueAt: iso(task.dueAt),
    priority: task.priority,
    formKey: task.formKey,
    createdAt: task.createdAt.toISOString(),
    completedAt: iso(task.completedAt),
  };
}

export function incidentInfo(incident: Incident): IncidentInfo {
  return {
    id: incident.id,
    instanceId: incident.instance.id,
    elementId: incident.elementId,
    type: incident.type,
    message: incident.message,
    status: incident.status,
    createdAt: incident.createdAt.toISOString(),
  };
}

export function historyInfo(event: HistoryEvent): HistoryInfo {
  return {
    id: String(event.id),
    at: event.at.toISOString(),
    event: event.event,
    elementId: event.elementId,
    elementType: event.elementType,
    data: event.data,
  };
}
