import type { Expression, FeelExpression } from '../expressions/expression.js';
import type { TimerKind } from '../expressions/timer.js';

/**
 * The executable graph of one BPMN process, built once at deploy time and shared, frozen, by
 * every step of every instance: steps never look at XML or moddle objects again.
 */
export interface ExecutableProcess {
  /** The process id: the definition key. */
  readonly id: string;
  readonly name: string | null;
  /** Every flow node of the process and of its sub-processes, by element id. */
  readonly nodes: ReadonlyMap<string, FlowNode>;
  /** The none start event of the process scope. */
  readonly startEventId: string;
  /** True when some inclusive gateway joins: only then do steps look for joins to release. */
  readonly hasInclusiveJoins: boolean;
}

export type NodeKind =
  | 'startEvent'
  | 'endEvent'
  | 'terminateEndEvent'
  | 'task'
  | 'userTask'
  | 'manualTask'
  | 'connectorTask'
  | 'receiveTask'
  | 'messageCatchEvent'
  | 'timerCatchEvent'
  | 'timerBoundaryEvent'
  | 'exclusiveGateway'
  | 'parallelGateway'
  | 'inclusiveGateway'
  | 'subProcess';

export interface SequenceFlow {
  readonly id: string;
  readonly target: string;
  /** Null for an unconditional flow. */
  readonly condition: FeelExpression | null;
}

export interface FlowNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** The BPMN type in Camunda's activity-type spelling (`userTask`, `exclusiveGateway`), for history. */
  readonly type: string;
  readonly name: string | null;
  /** The sub-process that contains the node, or null for the process scope. */
  readonly parentId: string | null;
  readonly incomingCount: number;
  readonly outgoing: readonly SequenceFlow[];
  readonly defaultFlowId: string | null;
  /** Timer boundary events attached to this activity. */
  readonly boundaryTimerIds: readonly string[];
  /** Inclusive joins (same scope) a token here may still reach: the join waits while one can. */
  readonly reachableJoins: ReadonlySet<string>;
  readonly task?: TaskDefinition;
  readonly connector?: ConnectorDefinition;
  readonly message?: MessageDefinition;
  readonly timer?: TimerDefinition;
  readonly boundary?: BoundaryDefinition;
  /** For a sub-process: its none start event. */
  readonly startEventId?: string;
}

export interface TaskDefinition {
  readonly kind: 'user' | 'manual';
  readonly assignee: Expression | null;
  readonly candidateUsers: Expression | null;
  readonly candidateOffices: Expression | null;
  readonly dueDate: Expression | null;
  readonly priority: Expression | null;
  readonly formKey: Expression | null;
}

export interface Mapping {
  readonly source: Expression;
  readonly target: string;
}

export interface ConnectorDefinition {
  readonly type: string;
  readonly inputs: readonly Mapping[];
  /** Empty: the connector's whole output is merged into the variables. */
  readonly outputs: readonly Mapping[];
}

export interface MessageDefinition {
  readonly name: string;
  readonly correlationKey: Expression | null;
}

export interface TimerDefinition {
  readonly kind: TimerKind;
  readonly value: Expression;
}

export interface BoundaryDefinition {
  readonly attachedToId: string;
  readonly interrupting: boolean;
}
