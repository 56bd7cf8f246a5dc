import type { ModdleElement } from 'bpmn-moddle';
import { checkAttributes, type AttributeRules } from './attributes.js';
import { compileMessage, compileTimer } from './event-definitions.js';
import type {
  BoundaryDefinition,
  ConnectorDefinition,
  MessageDefinition,
  NodeKind,
  TaskDefinition,
  TimerDefinition,
} from './graph.js';
import { typeName } from './problems.js';
import { compileConnector, compileUserTask, manualTask } from './task-definitions.js';
import type { ElementContext } from './values.js';

/** What an element compiler contributes to a flow node. */
export interface NodeSpec {
  kind: NodeKind;
  task?: TaskDefinition;
  connector?: ConnectorDefinition;
  message?: MessageDefinition;
  timer?: TimerDefinition;
  boundary?: BoundaryDefinition;
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
