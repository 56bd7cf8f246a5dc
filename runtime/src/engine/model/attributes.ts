import type { ModdleElement } from 'bpmn-moddle';
import type { Problems } from './problems.js';
import { typeName } from './problems.js';

export const CAMUNDA_URI = 'http://camunda.org/schema/1.0/bpmn';
const XSI_URI = 'http://www.w3.org/2001/XMLSchema-instance';
const MODELER_URI = 'http://camunda.org/schema/modeler/1.0';

/** Camunda 7 attributes that only matter to Camunda's own history or tasklist: accepted and ignored. */
const CAMUNDA_IGNORED = new Set([
  'historyTimeToLive',
  'versionTag',
  'isStartableInTasklist',
  'jobPriority',
]);

/** Properties every flow node may carry: identity, documentation and the flows around it. */
const FLOW_NODE_BASE = ['id', 'name', 'documentation', 'extensionElements', 'incoming', 'outgoing'];

export interface AttributeRules {
  /** Moddle properties allowed beyond the flow-node base. */
  readonly allowed?: readonly string[];
  /** Properties allowed only with their BPMN default value (tools often write them out). */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** Camunda 7 attributes the engine reads for this element. */
  readonly camunda?: readonly string[];
  /** Replace the flow-node base (for non-node elements such as sequence flows). */
  readonly base?: readonly string[];
}

/** Namespace prefixes as the document declares them: foreign attributes are judged by URI. */
export class Namespaces {
  private readonly byPrefix = new Map<string, string>();

  declare(element: ModdleElement): void {
    for (const [name, uri] of Object.entries(element.$attrs ?? {})) {
      if (name.startsWith('xmlns:')) this.byPrefix.set(name.slice(6), uri);
    }
  }

  /** Resolves a prefix as XML does: the nearest declaration on the element or its ancestors wins. */
  uriOf(qualifiedName: string, element?: ModdleElement): string | null {
    const colon = qualifiedName.indexOf(':');
    if (colon < 0) return null;
    const prefix = qualifiedName.slice(0, colon);
    for (let scope = element; scope !== undefined; scope = scope.$parent) {
      const declared = scope.$attrs?.[`xmlns:${prefix}`];
      if (declared !== undefined) return declared;
    }
    return this.byPrefix.get(prefix) ?? null;
  }
}

/**
 * Reports every property and foreign attribute of `element` the engine would not execute, and
 * returns the Camunda attributes it accepted (by local name).
 */
export function checkAttributes(
  element: ModdleElement,
  rules: AttributeRules,
  namespaces: Namespaces,
  problems: Problems,
  ownerId?: string,
): Map<string, string> {
  const type = typeName(element.$type);
  const elementId = element.id ?? ownerId;
  const allowed = new Set([...(rules.base ?? FLOW_NODE_BASE), ...(rules.allowed ?? [])]);
  for (const key of Object.keys(element)) {
    if (key.startsWith('$') || allowed.has(key)) continue;
    const defaults = rules.defaults ?? {};
    if (Object.hasOwn(defaults, key) && element[key] === defaults[key]) continue;
    problems.unexecuted(
      elementId,
      type,
      `"${key}" is not supported on ${type}: the engine does not execute it`,
    );
  }
  return checkForeignAttributes(element, elementId, rules.camunda ?? [], namespaces, problems);
}

function checkForeignAttributes(
  element: ModdleElement,
  elementId: string | undefined,
  camundaAccepted: readonly string[],
  namespaces: Namespaces,
  problems: Problems,
): Map<string, string> {
  const camunda = new Map<string, string>();
  for (const [name, value] of Object.entries(element.$attrs ?? {})) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const uri = namespaces.uriOf(name, element);
    const local = name.slice(name.indexOf(':') + 1);
    if (uri === XSI_URI || (uri === MODELER_URI && element.$type === 'bpmn:Definitions')) continue;
    if (uri === CAMUNDA_URI && CAMUNDA_IGNORED.has(local)) continue;
    if (uri === CAMUNDA_URI && camundaAccepted.includes(local)) {
      camunda.set(local, value);
      continue;
    }
    const type = typeName(element.$type);
    problems.unexecuted(
      elementId,
      type,
      `attribute "${name}" is not supported on ${type}: the engine does not execute it`,
    );
  }
  return camunda;
}
