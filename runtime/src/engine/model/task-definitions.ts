import type { ModdleElement } from 'bpmn-moddle';
import type { Expression } from '../expressions/expression.js';
import { parseDate, parseDuration } from '../expressions/timer.js';
import { checkAttributes } from './attributes.js';
import type { ConnectorDefinition, Mapping, TaskDefinition } from './graph.js';
import { typeName } from './problems.js';
import { attributeValue, extensionValues, type ElementContext } from './values.js';

const PECTRACK_CONNECTOR = 'pectrack:Connector';

export function manualTask(): TaskDefinition {
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

export function compileUserTask(
  element: ModdleElement,
  context: ElementContext,
  camunda: Map<string, string>,
): TaskDefinition | null {
  const before = context.problems.list.length;
  const attribute = (name: string, camundaName = name) => {
    const raw = (element[name] as string | undefined) ?? camunda.get(camundaName);
    return attributeValue(element, name, raw, context);
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

export function compileConnector(
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
  const before = context.problems.list.length;
  checkAttributes(
    connector,
    { base: ['type', 'action', 'inputs', 'outputs'] },
    context.namespaces,
    context.problems,
    element.id,
  );
  const connectorType = registryKey(connector, element, context);
  const inputs = mappings(element, connector.inputs, 'input', context);
  const outputs = mappings(element, connector.outputs, 'output', context);
  return context.problems.list.length === before && connectorType !== null
    ? { type: connectorType, inputs, outputs }
    : null;
}

/**
 * The connector registry key: `type`, or `type:action` when an element template bound the action
 * as its own attribute (a connector with several actions is registered only under the long key).
 */
function registryKey(
  connector: ModdleElement,
  element: ModdleElement,
  context: ElementContext,
): string | null {
  const type = (connector.type as string | undefined)?.trim() ?? '';
  const action = (connector.action as string | undefined)?.trim();
  if (type === '') {
    context.problems.add(element.id, typeName(element.$type), 'pectrack:connector needs a type');
    return null;
  }
  if (action === undefined) return type;
  const wrong =
    action === ''
      ? "pectrack:connector action is empty: name one of the connector's actions or leave it out"
      : /\s/.test(action)
        ? `pectrack:connector action "${action}" contains spaces: an action name has none`
        : null;
  if (wrong !== null) {
    context.problems.add(element.id, typeName(element.$type), wrong);
    return null;
  }
  return `${type}:${action}`;
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
    const source = attributeValue(
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
