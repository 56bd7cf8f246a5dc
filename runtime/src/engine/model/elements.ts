import type { ModdleElement } from 'bpmn-moddle';
import { parseFeelBody, parseValue, type Expression } from '../expressions/expression.js';
import { parseDate, parseDuration, timerValueError, type TimerKind } from '../expressions/timer.js';
import { checkAttributes, type AttributeRules, type Namespaces } from './attributes.js';
import type {
  BoundaryDefinition,
  ConnectorDefinition,
  Mapping,
  MessageDefinition,
  NodeKind,
  TaskDefinition,
  TimerDefinition,
} from './graph.js';
import { typeName, type Problems } from './problems.js';

/** What an element compiler contributes to a flow node. */
export interface NodeSpec {
  kind: NodeKind;
  task?: TaskDefinition;
  connector?: ConnectorDefinition;
  message?: MessageDefinition;
  timer?: TimerDefinition;
  boundary?: BoundaryDefinition;
}

export interface ElementContext {
  readonly problems: Problems;
  readonly namespaces: Namespaces;
}

interface ElementCompiler {
  readonly rules: AttributeRules;
  build(
    element: ModdleElement,
    context: ElementContext,
    camunda: Map<string, string>,
  ): NodeSpec | null;
}

const ACTIVITY_DEFAULTS = { startQuantity: 1, completionQuantity: 1, isForCompensation: false };
const ACTIVITY: AttributeRules = { allowed: ['default'], defaults: ACTIVITY_DEFAULTS };
const USER_TASK_ATTRIBUTES = [
  'assignee',
  'candidateUsers',
  'candidateOffices',
  'dueDate',
  'priority',
  'formKey',
];
const PECTRACK_CONNECTOR = 'pectrack:Connector';

/** One compiler per supported BPMN element type: adding an element means adding an entry here. */
export const elementCompilers: Readonly<Record<string, ElementCompiler>> = {
  'bpmn:StartEvent': {
    rules: {
      allowed: ['eventDefinitions'],
      defaults: { isInterrupting: true, parallelMultiple: false },
    },
    build: (element, context) =>
      noEventDefinitions(element, context) ? { kind: 'startEvent' } : null,
  },
  'bpmn:EndEvent': {
    rules: { allowed: ['eventDefinitions'] },
    build(element, context) {
      const definitions = eventDefinitions(element);
      if (definitions.length === 0) return { kind: 'endEvent' };
      const [definition] = definitions;
      if (definitions.length === 1 && definition!.$type === 'bpmn:TerminateEventDefinition') {
        checkAttributes(
          definition!,
          { base: ['id'] },
          context.namespaces,
          context.problems,
          element.id,
        );
        return { kind: 'terminateEndEvent' };
      }
      return unsupportedDefinitions(
        element,
        context,
        'an end event may only be a none or terminate end event',
      );
    },
  },
  'bpmn:IntermediateCatchEvent': {
    rules: {
      allowed: ['eventDefinitions', 'correlationKey'],
      defaults: { parallelMultiple: false },
    },
    build(element, context) {
      const definitions = eventDefinitions(element);
      const [definition] = definitions;
      if (definitions.length === 1 && definition!.$type === 'bpmn:MessageEventDefinition') {
        const message = compileMessage(element, definition!, context);
        return message === null ? null : { kind: 'messageCatchEvent', message };
      }
      if (definitions.length === 1 && definition!.$type === 'bpmn:TimerEventDefinition') {
        const timer = compileTimer(element, definition!, context);
        return timer === null ? null : { kind: 'timerCatchEvent', timer };
      }
      return unsupportedDefinitions(
        element,
        context,
        'an intermediate catch event must be a message or timer event',
      );
    },
  },
  'bpmn:BoundaryEvent': {
    rules: {
      allowed: ['eventDefinitions', 'attachedToRef', 'cancelActivity'],
      defaults: { parallelMultiple: false },
    },
    build(element, context) {
      const definitions = eventDefinitions(element);
      const [definition] = definitions;
      if (definitions.length !== 1 || definition!.$type !== 'bpmn:TimerEventDefinition') {
        return unsupportedDefinitions(element, context, 'only timer boundary events are supported');
      }
      const timer = compileTimer(element, definition!, context);
      const attachedTo = element.attachedToRef as ModdleElement | undefined;
      if (attachedTo?.id === undefined) {
        context.problems.add(
          element.id,
          'boundaryEvent',
          'the boundary event is not attached to an activity',
        );
        return null;
      }
      const boundary = {
        attachedToId: attachedTo.id,
        interrupting: element.cancelActivity !== false,
      };
      return timer === null ? null : { kind: 'timerBoundaryEvent', timer, boundary };
    },
  },
  'bpmn:Task': { rules: ACTIVITY, build: () => ({ kind: 'task' }) },
  'bpmn:ManualTask': { rules: ACTIVITY, build: () => ({ kind: 'manualTask', task: manualTask() }) },
  'bpmn:UserTask': {
    rules: {
      ...ACTIVITY,
      allowed: ['default', ...USER_TASK_ATTRIBUTES],
      defaults: { ...ACTIVITY_DEFAULTS, implementation: '##unspecified' },
      camunda: ['assignee', 'candidateUsers', 'candidateGroups', 'dueDate', 'priority', 'formKey'],
    },
    build: (element, context, camunda) => {
      const task = compileUserTask(element, context, camunda);
      return task === null ? null : { kind: 'userTask', task };
    },
  },
  'bpmn:ServiceTask': connectorTask(),
  'bpmn:SendTask': connectorTask(),
  'bpmn:ReceiveTask': {
    rules: {
      allowed: ['default', 'messageRef', 'correlationKey'],
      defaults: { ...ACTIVITY_DEFAULTS, instantiate: false, implementation: '##WebService' },
    },
    build(element, context) {
      const message = compileMessage(element, element, context);
      return message === null ? null : { kind: 'receiveTask', message };
    },
  },
  'bpmn:ExclusiveGateway': {
    rules: { allowed: ['default', 'gatewayDirection'] },
    build: () => ({ kind: 'exclusiveGateway' }),
  },
  'bpmn:InclusiveGateway': {
    rules: { allowed: ['default', 'gatewayDirection'] },
    build: () => ({ kind: 'inclusiveGateway' }),
  },
  'bpmn:ParallelGateway': {
    rules: { allowed: ['gatewayDirection'] },
    build: () => ({ kind: 'parallelGateway' }),
  },
  'bpmn:SubProcess': {
    rules: {
      ...ACTIVITY,
      allowed: ['default', 'flowElements', 'artifacts', 'laneSets'],
      defaults: { ...ACTIVITY_DEFAULTS, triggeredByEvent: false },
    },
    build: () => ({ kind: 'subProcess' }),
  },
};

/** Why a known but unsupported BPMN element cannot be deployed. */
export function unsupportedElementReason(moddleType: string): string {
  const type = typeName(moddleType);
  if (moddleType === 'bpmn:ScriptTask') {
    return 'scriptTask is not supported: the engine never runs scripts; use a service task with a pectrack:connector';
  }
  return `${type} is not supported by the engine`;
}

function connectorTask(): ElementCompiler {
  return {
    rules: { ...ACTIVITY, defaults: { ...ACTIVITY_DEFAULTS, implementation: '##WebService' } },
    build(element, context) {
      const connector = compileConnector(element, context);
      return connector === null ? null : { kind: 'connectorTask', connector };
    },
  };
}

function eventDefinitions(element: ModdleElement): ModdleElement[] {
  return (element.eventDefinitions as ModdleElement[] | undefined) ?? [];
}

function noEventDefinitions(element: ModdleElement, context: ElementContext): boolean {
  if (eventDefinitions(element).length === 0) return true;
  unsupportedDefinitions(element, context, 'only none start events are supported');
  return false;
}

function unsupportedDefinitions(
  element: ModdleElement,
  context: ElementContext,
  rule: string,
): null {
  const kinds = eventDefinitions(element).map((definition) => typeName(definition.$type));
  const what = kinds.length === 0 ? 'no event definition' : kinds.join(', ');
  context.problems.add(
    element.id,
    typeName(element.$type),
    `${what} is not supported here: ${rule}`,
  );
  return null;
}

function manualTask(): TaskDefinition {
  return {
    kind: 'manual',
    assignee: null,
    candidateUsers: null,
    candidateOffices: null,
    dueDate: null,
    priority: null,
    formKey: null,
  };
}

function compileUserTask(
  element: ModdleElement,
  context: ElementContext,
  camunda: Map<string, string>,
): TaskDefinition | null {
  const before = context.problems.list.length;
  const attribute = (name: string, camundaName = name) => {
    const raw = (element[name] as string | undefined) ?? camunda.get(camundaName);
    return value(element, name, raw, context);
  };
  const task: TaskDefinition = {
    kind: 'user',
    assignee: attribute('assignee'),
    candidateUsers: attribute('candidateUsers'),
    candidateOffices: attribute('candidateOffices', 'candidateGroups'),
    dueDate: attribute('dueDate'),
    priority: attribute('priority'),
    formKey: attribute('formKey'),
  };
  checkLiteral(element, 'priority', task.priority, context, (text) =>
    /^-?\d+$/.test(text.trim()) ? null : 'must be an integer or a FEEL expression',
  );
  checkLiteral(element, 'dueDate', task.dueDate, context, (text) =>
    parseDuration(text) !== null || parseDate(text) !== null
      ? null
      : 'must be an ISO 8601 duration (P3D) or date-time, or a FEEL expression',
  );
  return context.problems.list.length === before ? task : null;
}

function checkLiteral(
  element: ModdleElement,
  attribute: string,
  expression: Expression | null,
  context: ElementContext,
  check: (text: string) => string | null,
): void {
  if (expression?.kind !== 'literal') return;
  const reason = check(expression.value);
  if (reason !== null)
    context.problems.add(
      element.id,
      typeName(element.$type),
      `${attribute} "${expression.value}" ${reason}`,
    );
}

function value(
  element: ModdleElement,
  attribute: string,
  raw: string | undefined,
  context: ElementContext,
): Expression | null {
  if (raw === undefined || raw.trim() === '') return null;
  const parsed = parseValue(raw);
  if (parsed.ok) return parsed.expression;
  context.problems.add(element.id, typeName(element.$type), `${attribute}: ${parsed.reason}`);
  return null;
}

function compileConnector(
  element: ModdleElement,
  context: ElementContext,
): ConnectorDefinition | null {
  const type = typeName(element.$type);
  const connectors = extensionValues(element).filter((value) => value.$type === PECTRACK_CONNECTOR);
  if (connectors.length !== 1) {
    context.problems.add(
      element.id,
      type,
      `${type} needs exactly one <pectrack:connector type="..."> extension element`,
    );
    return null;
  }
  const connector = connectors[0]!;
  const connectorType = connector.type as string | undefined;
  if (connectorType === undefined || connectorType.trim() === '') {
    context.problems.add(element.id, type, 'pectrack:connector needs a type');
    return null;
  }
  const before = context.problems.list.length;
  const inputs = mappings(element, connector.inputs, 'input', context);
  const outputs = mappings(element, connector.outputs, 'output', context);
  return context.problems.list.length === before ? { type: connectorType, inputs, outputs } : null;
}

function mappings(
  element: ModdleElement,
  raw: unknown,
  direction: string,
  context: ElementContext,
): Mapping[] {
  const result: Mapping[] = [];
  for (const mapping of (raw as ModdleElement[] | undefined) ?? []) {
    checkAttributes(
      mapping,
      { base: ['source', 'target'] },
      context.namespaces,
      context.problems,
      element.id,
    );
    const target = mapping.target as string | undefined;
    if (target === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(target)) {
      context.problems.add(
        element.id,
        typeName(element.$type),
        `pectrack:${direction} needs a target variable name, got "${target ?? ''}"`,
      );
      continue;
    }
    const source = value(
      element,
      `pectrack:${direction} ${target}`,
      mapping.source as string | undefined,
      context,
    );
    if (source !== null) result.push({ source, target });
    else if (mapping.source === undefined) {
      context.problems.add(
        element.id,
        typeName(element.$type),
        `pectrack:${direction} ${target} needs a source`,
      );
    }
  }
  return result;
}

export function extensionValues(element: ModdleElement): ModdleElement[] {
  const extensions = element.extensionElements as ModdleElement | undefined;
  return (extensions?.values as ModdleElement[] | undefined) ?? [];
}

function compileMessage(
  element: ModdleElement,
  holder: ModdleElement,
  context: ElementContext,
): MessageDefinition | null {
  const type = typeName(element.$type);
  if (holder !== element) {
    checkAttributes(
      holder,
      { base: ['id', 'messageRef'] },
      context.namespaces,
      context.problems,
      element.id,
    );
  }
  const message = holder.messageRef as ModdleElement | undefined;
  const name = message?.name as string | undefined;
  if (name === undefined || name.trim() === '') {
    context.problems.add(
      element.id,
      type,
      'a message wait needs a messageRef to a <bpmn:message> with a name',
    );
    return null;
  }
  const before = context.problems.list.length;
  const correlationKey = value(
    element,
    'correlationKey',
    element.correlationKey as string | undefined,
    context,
  );
  return context.problems.list.length === before ? { name, correlationKey } : null;
}

const TIMER_PROPERTIES: readonly [string, TimerKind][] = [
  ['timeDuration', 'duration'],
  ['timeDate', 'date'],
  ['timeCycle', 'cycle'],
];

function compileTimer(
  element: ModdleElement,
  definition: ModdleElement,
  context: ElementContext,
): TimerDefinition | null {
  const type = typeName(element.$type);
  checkAttributes(
    definition,
    { base: ['id', 'timeDuration', 'timeDate', 'timeCycle'] },
    context.namespaces,
    context.problems,
    element.id,
  );
  const present = TIMER_PROPERTIES.filter(([property]) => definition[property] !== undefined);
  if (present.length !== 1) {
    context.problems.add(
      element.id,
      type,
      'a timer needs exactly one of timeDuration, timeDate or timeCycle',
    );
    return null;
  }
  const [property, kind] = present[0]!;
  const expression = definition[property] as ModdleElement;
  checkAttributes(
    expression,
    { base: ['id', 'body', 'language'] },
    context.namespaces,
    context.problems,
    element.id,
  );
  const parsed = parseFeelBody(
    (expression.body as string | undefined) ?? '',
    expression.language as string | undefined,
  );
  if (!parsed.ok) {
    context.problems.add(element.id, type, `${property}: ${parsed.reason}`);
    return null;
  }
  if (parsed.expression.kind === 'literal') {
    const reason = timerValueError(kind, parsed.expression.value);
    if (reason !== null) {
      context.problems.add(element.id, type, reason);
      return null;
    }
  }
  return { kind, value: parsed.expression };
}
