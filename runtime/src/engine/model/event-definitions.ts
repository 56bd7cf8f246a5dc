import type { ModdleElement } from 'bpmn-moddle';
import { parseFeelBody } from '../expressions/expression.js';
import { timerValueError, type TimerKind } from '../expressions/timer.js';
import { checkAttributes } from './attributes.js';
import type { MessageDefinition, TimerDefinition } from './graph.js';
import { typeName } from './problems.js';
import { attributeValue, type ElementContext } from './values.js';

const TIMER_PROPERTIES: readonly [string, TimerKind][] = [
  ['timeDuration', 'duration'],
  ['timeDate', 'date'],
  ['timeCycle', 'cycle'],
];

export function compileTimer(
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

export function compileMessage(
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
  const correlationKey = attributeValue(
    element,
    'correlationKey',
    element.correlationKey as string | undefined,
    context,
  );
  return context.problems.list.length === before ? { name, correlationKey } : null;
}
