/**
 * The public operations of the runtime, each one transaction (ARCHITECTURE §3).
 * The API, the CLI and the Camunda layer call only these.
 */
import type { CompileProblem, Variables } from '../engine/types.js';

export interface Actor {
  tenantId: string;
  userId: string;
  username: string;
  roles: string[];
}

export interface DefinitionInfo {
  id: string;
  key: string;
  version: number;
  name: string | null;
  sha256: string;
  deploymentId: string;
  deployedBy: string | null;
  deployedAt: string;
}

export interface DeployInput {
  name: string;
  source?: string | null;
  files: { filename: string; xml: string }[];
  /** Skip a file whose key's latest version has the same SHA-256 (Camunda's duplicate filtering). */
  duplicateFiltering?: boolean;
}

export interface DeployResult {
  deploymentId: string;
  name: string;
  deployedAt: string;
  definitions: DefinitionInfo[];
  /**
   * What deployed but will not run on this node as it is: a service or send task naming a
   * connector type the registry does not have (its instances would stop there with an
   * incident until the connector is installed).
   */
  warnings: DeployWarning[];
}

export interface DeployWarning {
  /** The file the element is in. */
  path: string;
  elementId: string;
  type: string;
  reason: string;
}

export type InstanceStatus = 'active' | 'completed' | 'terminated';

export interface InstanceInfo {
  id: string;
  definitionId: string;
  definitionKey: string;
  definitionVersion: number;
  businessKey: string | null;
  status: InstanceStatus;
  hasIncident: boolean;
  startedAt: string;
  endedAt: string | null;
  variables: Variables;
}

/** What `start` answers: the instance and the tasks its first step created (no second round trip to find them). */
export interface StartedInstance extends InstanceInfo {
  tasks: TaskInfo[];
}

export interface InstanceDetail extends InstanceInfo {
  state: unknown;
  history: HistoryInfo[];
  incidents: IncidentInfo[];
}

export interface HistoryInfo {
  id: string;
  at: string;
  event: string;
  elementId: string | null;
  elementType: string | null;
  data: Variables | null;
}

export type TaskStatus = 'open' | 'completed' | 'cancelled';

export interface TaskInfo {
  id: string;
  instanceId: string;
  definitionId: string;
  elementId: string;
  name: string | null;
  kind: 'user' | 'manual';
  status: TaskStatus;
  assignee: string | null;
  candidateUsers: string[];
  candidateOffices: string[];
  dueAt: string | null;
  priority: number;
  formKey: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface TaskFilter {
  instanceId?: string;
  assignee?: string;
  candidateOffice?: string;
  candidateUser?: string;
  status?: TaskStatus;
  dueBefore?: string;
  limit?: number;
  offset?: number;
}

export interface InstanceFilter {
  definitionKey?: string;
  businessKey?: string;
  status?: InstanceStatus;
  hasIncident?: boolean;
  limit?: number;
  offset?: number;
}

export interface IncidentInfo {
  id: string;
  instanceId: string;
  elementId: string;
  type: string;
  message: string;
  status: 'open' | 'resolved';
  createdAt: string;
}

export interface Services {
  definitions: {
    deploy(actor: Actor, input: DeployInput): Promise<DeployResult>;
    list(actor: Actor, filter?: { key?: string; latestOnly?: boolean }): Promise<DefinitionInfo[]>;
    get(actor: Actor, id: string): Promise<DefinitionInfo>;
    getXml(actor: Actor, id: string): Promise<string>;
    listDeployments(actor: Actor): Promise<{ id: string; name: string; deployedAt: string }[]>;
  };
  instances: {
    start(
      actor: Actor,
      input: {
        definitionKey?: string;
        definitionId?: string;
        businessKey?: string | null;
        variables?: Variables;
      },
    ): Promise<StartedInstance>;
    list(actor: Actor, filter: InstanceFilter): Promise<InstanceInfo[]>;
    get(actor: Actor, id: string): Promise<InstanceDetail>;
    cancel(actor: Actor, id: string, reason: string): Promise<InstanceInfo>;
  };
  tasks: {
    list(actor: Actor, filter: TaskFilter): Promise<TaskInfo[]>;
    get(actor: Actor, id: string): Promise<TaskInfo>;
    claim(actor: Actor, id: string, userId?: string): Promise<TaskInfo>;
    unclaim(actor: Actor, id: string): Promise<TaskInfo>;
    assign(actor: Actor, id: string, assignee: string | null): Promise<TaskInfo>;
    /** Throws ConflictError when the task was completed concurrently. */
    complete(actor: Actor, id: string, variables?: Variables): Promise<void>;
  };
  messages: {
    /**
     * Triggers every instance waiting on the name and key. With `timeToLiveMs`, a message that
     * found none is kept that long for the first instance to wait for it (`buffered: true`).
     */
    correlate(
      actor: Actor,
      input: {
        name: string;
        correlationKey?: string | null;
        variables?: Variables;
        timeToLiveMs?: number;
      },
    ): Promise<{ matched: number; instanceIds: string[]; buffered: boolean }>;
    /**
     * Hands messages kept by another writer's transaction (the intake keeps each receipt in
     * the commit that applies it) to the instances already waiting for them, one each.
     */
    deliverKept(actor: Actor, ids: readonly number[]): Promise<void>;
  };
  incidents: {
    list(
      actor: Actor,
      filter: { instanceId?: string; status?: 'open' | 'resolved' },
    ): Promise<IncidentInfo[]>;
    /** `variables` are merged into the instance first, to fix what the failing expression read. */
    retry(actor: Actor, id: string, variables?: Variables): Promise<void>;
  };
}

export type { CompileProblem };
