import type { ModdleElement } from 'bpmn-moddle';
import { parseValue, type Expression } from '../expressions/expression.js';
import type { Namespaces } from './attributes.js';
import { typeName, type Problems } from './problems.js';

/** What element compilers share: where problems go, and how prefixes resolve. */
export interface ElementContext {
  readonly problems: Problems;
  readonly namespaces: Namespaces;
}

/** Parses an attribute written as a literal, `=FEEL` or `${variable}`; reports and drops anything else. */
export function attributeValue(
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

/** The children of an element's <extensionElements>. */
export function extensionValues(element: ModdleElement): ModdleElement[] {
  const extensions = element.extensionElements as ModdleElement | undefined;
  return (extensions?.values as ModdleElement[] | undefined) ?? [];
}
