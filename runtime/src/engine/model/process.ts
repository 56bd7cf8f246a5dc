import type { ModdleElement } from 'bpmn-moddle';
import { parseFeelBody, type FeelExpression } from '../expressions/expression.js';
import { CAMUNDA_URI, checkAttributes, type Namespaces } from './attributes.js';
import { elementCompilers, unsupportedElementReason, type NodeSpec } from './elements.js';
import type { ExecutableProcess, FlowNode, NodeKind, SequenceFlow } from './graph.js';
import { typeName, type Problems } from './problems.js';
import { reachableJoins } from './reachability.js';
import { extensionValues } from './values.js';

export interface ProcessContext {
  readonly problems: Problems;
  readonly namespaces: Namespaces;
  /** The definitions declare FEEL as expression language: plain FEEL conditions are then accepted. */
  readonly feelByDefault: boolean;
}

type DraftNode = Omit<
  FlowNode,
  'reachableJoins' | 'outgoing' | 'boundaryTimerIds' | 'incomingCount' | 'startEventId'
> & {
  startEventId?: string;
  outgoing: SequenceFlow[];
  boundaryTimerIds: string[];
  incomingCount: number;
};

interface DraftFlow {
  id: string;
  parentId: string | null;
  sourceId: string | undefined;
  targetId: string | undefined;
  condition: FeelExpression | null;
}

const ACTIVITY_KINDS: ReadonlySet<NodeKind> = new Set([
  'task',
  'userTask',
  'manualTask',
  'connectorTask',
  'receiveTask',
  'subProcess',
]);
const ARTIFACTS = new Set(['bpmn:TextAnnotation', 'bpmn:Association', 'bpmn:Group']);
const PROCESS_PROPERTIES = [
  'id',
  'name',
  'isExecutable',
  'documentation',
  'extensionElements',
  'flowElements',
  'artifacts',
  'laneSets',
];

/** Compiles one executable <process> into its graph, or reports why it cannot run. */
export function compileProcess(
  process: ModdleElement,
  context: ProcessContext,
): ExecutableProcess | null {
  const before = context.problems.list.length;
  checkAttributes(
    process,
    { base: PROCESS_PROPERTIES, defaults: { processType: 'None', isClosed: false } },
    context.namespaces,
    context.problems,
  );
  checkExtensions(process, null, context);
  const compiler = new ScopeCompiler(context);
  const startEventId = compiler.compileScope(process, null);
  compiler.wire();
  if (context.problems.list.length > before || startEventId === null) return null;
  return freeze({
    id: process.id!,
    name: (process.name as string | undefined) ?? null,
    nodes: compiler.finish(),
    startEventId,
    hasInclusiveJoins: compiler.hasInclusiveJoins(),
  });
}

class ScopeCompiler {
  private readonly nodes = new Map<string, DraftNode>();
  private readonly flows: DraftFlow[] = [];

  constructor(private readonly context: ProcessContext) {}

  /** Compiles the elements of a process or sub-process; returns its none start event. */
  compileScope(container: ModdleElement, parentId: string | null): string | null {
    const startEvents: string[] = [];
    for (const element of (container.flowElements as ModdleElement[] | undefined) ?? []) {
      if (element.id === undefined || element.id.trim() === '') {
        const type = typeName(element.$type);
        this.context.problems.add(container.id, type, `a ${type} in ${container.id} has no id`);
      } else if (element.$type === 'bpmn:SequenceFlow') {
        this.flows.push(this.compileFlow(element, parentId));
      } else {
        const node = this.compileNode(element, parentId);
        if (node?.kind === 'startEvent') startEvents.push(node.id);
      }
    }
    for (const artifact of (container.artifacts as ModdleElement[] | undefined) ?? []) {
      if (!ARTIFACTS.has(artifact.$type)) {
        this.context.problems.add(
          artifact.id,
          typeName(artifact.$type),
          `${typeName(artifact.$type)} is not supported`,
        );
      }
    }
    if (startEvents.length !== 1) {
      const what = parentId === null ? 'a process' : 'a sub-process';
      this.context.problems.add(
        container.id,
        typeName(container.$type),
        `${what} needs exactly one none start event, found ${startEvents.length}`,
      );
      return null;
    }
    return startEvents[0]!;
  }

  private compileNode(element: ModdleElement, parentId: string | null): DraftNode | null {
    const compiler = elementCompilers[element.$type];
    if (compiler === undefined) {
      this.context.problems.add(
        element.id,
        typeName(element.$type),
        unsupportedElementReason(element.$type),
      );
      return null;
    }
    const camunda = checkAttributes(
      element,
      compiler.rules,
      this.context.namespaces,
      this.context.problems,
    );
    const spec = compiler.build(element, this.context, camunda);
    if (spec === null) return null;
    checkExtensions(element, spec.kind, this.context);
    const node = this.draft(element, parentId, spec);
    this.nodes.set(node.id, node);
    if (spec.kind === 'subProcess') {
      const startEventId = this.compileScope(element, node.id);
      if (startEventId !== null) node.startEventId = startEventId;
    }
    return node;
  }

  private draft(element: ModdleElement, parentId: string | null, spec: NodeSpec): DraftNode {
    return {
      ...spec,
      id: element.id!,
      type: typeName(element.$type),
      name: (element.name as string | undefined) ?? null,
      parentId,
      incomingCount: 0,
      outgoing: [],
      defaultFlowId: (element.default as ModdleElement | undefined)?.id ?? null,
      boundaryTimerIds: [],
    };
  }

  private compileFlow(flow: ModdleElement, parentId: string | null): DraftFlow {
    checkAttributes(
      flow,
      {
        base: [
          'id',
          'name',
          'documentation',
          'extensionElements',
          'sourceRef',
          'targetRef',
          'conditionExpression',
        ],
        defaults: { isImmediate: true },
      },
      this.context.namespaces,
      this.context.problems,
    );
    checkExtensions(flow, null, this.context);
    return {
      id: flow.id!,
      parentId,
      sourceId: (flow.sourceRef as ModdleElement | undefined)?.id,
      targetId: (flow.targetRef as ModdleElement | undefined)?.id,
      condition: this.compileCondition(flow),
    };
  }

  private compileCondition(flow: ModdleElement): FeelExpression | null {
    const expression = flow.conditionExpression as ModdleElement | undefined;
    if (expression === undefined) return null;
    checkAttributes(
      expression,
      { base: ['id', 'body', 'language'] },
      this.context.namespaces,
      this.context.problems,
      flow.id,
    );
    const language =
      (expression.language as string | undefined) ??
      (this.context.feelByDefault ? 'feel' : undefined);
    const parsed = parseFeelBody((expression.body as string | undefined) ?? '', language);
    if (!parsed.ok) {
      this.context.problems.add(flow.id, 'sequenceFlow', parsed.reason);
      return null;
    }
    const { expression: condition } = parsed;
    if (condition.kind === 'feel') return condition;
    this.context.problems.add(
      flow.id,
      'sequenceFlow',
      `condition "${condition.value}" must be FEEL: write it as "=${condition.value}"`,
    );
    return null;
  }

  /** Connects flows and boundary events once every node of every scope exists. */
  wire(): void {
    for (const flow of this.flows) this.wireFlow(flow);
    for (const node of this.nodes.values()) {
      if (
        node.defaultFlowId !== null &&
        !node.outgoing.some((flow) => flow.id === node.defaultFlowId)
      ) {
        this.context.problems.add(
          node.id,
          node.type,
          `default flow "${node.defaultFlowId}" is not an outgoing flow of ${node.id}`,
        );
      }
      if (node.boundary !== undefined) this.attachBoundary(node);
    }
  }

  private wireFlow(flow: DraftFlow): void {
    const source = flow.sourceId === undefined ? undefined : this.nodes.get(flow.sourceId);
    const target = flow.targetId === undefined ? undefined : this.nodes.get(flow.targetId);
    // A missing end was already reported: as an unresolved reference or an unsupported element.
    if (source === undefined || target === undefined) return;
    const problems = this.context.problems;
    if (source.parentId !== flow.parentId || target.parentId !== flow.parentId) {
      problems.add(
        flow.id,
        'sequenceFlow',
        'a sequence flow must connect elements of the same (sub-)process',
      );
      return;
    }
    if (target.kind === 'startEvent' || target.kind === 'timerBoundaryEvent') {
      problems.add(
        flow.id,
        'sequenceFlow',
        `a sequence flow cannot lead into ${target.type} ${target.id}`,
      );
      return;
    }
    if (flow.condition !== null && source.kind === 'parallelGateway') {
      problems.add(
        flow.id,
        'sequenceFlow',
        'flows leaving a parallel gateway cannot have conditions',
      );
    }
    const condition = flow.id === source.defaultFlowId ? null : flow.condition;
    source.outgoing.push({ id: flow.id, target: target.id, condition });
    target.incomingCount += 1;
  }

  private attachBoundary(node: DraftNode): void {
    const activity = this.nodes.get(node.boundary!.attachedToId);
    if (
      activity === undefined ||
      !ACTIVITY_KINDS.has(activity.kind) ||
      activity.parentId !== node.parentId
    ) {
      this.context.problems.add(
        node.id,
        node.type,
        'a boundary event must be attached to a task or sub-process',
      );
      return;
    }
    activity.boundaryTimerIds.push(node.id);
  }

  hasInclusiveJoins(): boolean {
    return [...this.nodes.values()].some(
      (node) => node.kind === 'inclusiveGateway' && node.incomingCount > 1,
    );
  }

  finish(): ReadonlyMap<string, FlowNode> {
    const joins = reachableJoins(this.nodes);
    const nodes = new Map<string, FlowNode>();
    for (const node of this.nodes.values())
      nodes.set(node.id, { ...node, reachableJoins: joins.get(node.id)! });
    return nodes;
  }
}

function checkExtensions(
  element: ModdleElement,
  kind: NodeKind | null,
  context: ProcessContext,
): void {
  for (const extension of extensionValues(element)) {
    if (extension.$type === 'pectrack:Connector' && kind === 'connectorTask') continue;
    const local = extension.$type.slice(extension.$type.indexOf(':') + 1);
    if (
      context.namespaces.uriOf(extension.$type, extension) === CAMUNDA_URI &&
      local === 'properties'
    )
      continue;
    context.problems.unexecuted(
      element.id,
      typeName(element.$type),
      `extension element <${extension.$type}> is not supported here: the engine does not execute it`,
    );
  }
}

/** Deep-freezes the compiled graph: it is shared by every instance and must never change. */
function freeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (value instanceof Map || value instanceof Set) {
    for (const entry of value.values()) freeze(entry);
  } else {
    for (const entry of Object.values(value)) freeze(entry);
  }
  return Object.freeze(value);
}
