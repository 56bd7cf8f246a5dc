/** PECtrack records in the JSON shapes of the Camunda 7 REST API. */
import type { DefinitionInfo, InstanceInfo, TaskInfo } from '../../services/types.js';
import { toCamundaDate } from './dates.js';

export interface Link {
  method: string;
  href: string;
  rel: string;
}

export function processDefinitionDto(
  definition: DefinitionInfo,
  resource: string | null,
  tenantId: string | null = null,
) {
  return {
    id: definition.id,
    key: definition.key,
    category: 'http://bpmn.io/schema/bpmn',
    description: null,
    name: definition.name,
    version: definition.version,
    resource,
    deploymentId: definition.deploymentId,
    diagram: null,
    suspended: false,
    tenantId,
    versionTag: null,
    historyTimeToLive: null,
    startableInTasklist: true,
  };
}

export function deploymentDto(deployment: {
  id: string;
  name: string;
  deployedAt: string;
  source?: string | null;
}) {
  return {
    links: [] as Link[],
    id: deployment.id,
    name: deployment.name,
    source: deployment.source ?? null,
    deploymentTime: toCamundaDate(deployment.deployedAt),
    tenantId: null,
  };
}

export function processInstanceDto(instance: InstanceInfo, baseUrl: string) {
  return {
    links: [{ method: 'GET', href: `${baseUrl}/process-instance/${instance.id}`, rel: 'self' }],
    id: instance.id,
    definitionId: instance.definitionId,
    definitionKey: instance.definitionKey,
    businessKey: instance.businessKey,
    caseInstanceId: null,
    ended: instance.status !== 'active',
    suspended: false,
    tenantId: null,
  };
}

export function taskDto(task: TaskInfo) {
  return {
    id: task.id,
    name: task.name,
    assignee: task.assignee,
    owner: null,
    created: toCamundaDate(task.createdAt),
    lastUpdated: null,
    due: toCamundaDate(task.dueAt),
    followUp: null,
    delegationState: null,
    description: null,
    executionId: task.instanceId,
    parentTaskId: null,
    priority: task.priority,
    processDefinitionId: task.definitionId,
    processInstanceId: task.instanceId,
    taskDefinitionKey: task.elementId,
    caseExecutionId: null,
    caseInstanceId: null,
    caseDefinitionId: null,
    suspended: false,
    formKey: task.formKey,
    camundaFormRef: null,
    tenantId: null,
  };
}

const HISTORY_STATE = {
  active: 'ACTIVE',
  completed: 'COMPLETED',
  terminated: 'EXTERNALLY_TERMINATED',
} as const;

export function historicProcessInstanceDto(instance: InstanceInfo, deleteReason: string | null) {
  const duration = instance.endedAt
    ? Date.parse(instance.endedAt) - Date.parse(instance.startedAt)
    : null;
  return {
    id: instance.id,
    businessKey: instance.businessKey,
    processDefinitionId: instance.definitionId,
    processDefinitionKey: instance.definitionKey,
    processDefinitionName: null,
    processDefinitionVersion: instance.definitionVersion,
    startTime: toCamundaDate(instance.startedAt),
    endTime: toCamundaDate(instance.endedAt),
    removalTime: null,
    durationInMillis: duration,
    startUserId: null,
    startActivityId: null,
    deleteReason,
    rootProcessInstanceId: instance.id,
    superProcessInstanceId: null,
    superCaseInstanceId: null,
    caseInstanceId: null,
    tenantId: null,
    state: HISTORY_STATE[instance.status],
  };
}
