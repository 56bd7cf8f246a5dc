import { BpmnModdle, type ModdleElement, type ParseWarning } from 'bpmn-moddle';
import { isFeelLanguage } from '../expressions/expression.js';
import type { CompileProblem } from '../types.js';
import { checkAttributes, Namespaces } from './attributes.js';
import type { ExecutableProcess } from './graph.js';
import { pectrackDescriptor } from './pectrack-descriptor.js';
import { Problems, typeName } from './problems.js';
import { compileProcess } from './process.js';
import { forbiddenDeclaration } from './xml-guard.js';

export type CompileResult =
  { ok: true; processes: ExecutableProcess[] } | { ok: false; problems: CompileProblem[] };

const moddle = new BpmnModdle({ pectrack: pectrackDescriptor });

const DEFINITIONS_PROPERTIES = [
  'id',
  'name',
  'targetNamespace',
  'expressionLanguage',
  'typeLanguage',
  'exporter',
  'exporterVersion',
  'rootElements',
  'diagrams',
  'documentation',
  'extensionElements',
];
/** Root elements that only declare or draw things; processes and messages are read where used. */
const DECLARATIONS = new Set(['bpmn:Message', 'bpmn:Collaboration', 'bpmn:Category']);

export interface CompileOptions {
  /**
   * The XML is a definition already deployed (loaded to run its instances): what the engine
   * does not execute is passed over instead of refused (`Problems.unexecuted`).
   */
  stored?: boolean;
}

/** Compiles BPMN XML into one executable process per executable <process>, or lists every problem. */
export async function compile(xml: string, options: CompileOptions = {}): Promise<CompileResult> {
  const forbidden = forbiddenDeclaration(xml);
  if (forbidden !== null) return { ok: false, problems: [forbidden] };
  let parsed;
  try {
    parsed = await moddle.fromXML(xml, 'bpmn:Definitions');
  } catch (error) {
    return {
      ok: false,
      problems: [{ elementId: '', type: 'document', reason: malformedReason(error as Error) }],
    };
  }
  const problems = new Problems(options.stored ?? false);
  for (const warning of parsed.warnings) reportWarning(warning, xml, problems);
  const processes = compileDefinitions(parsed.rootElement, problems);
  return problems.empty ? { ok: true, processes } : { ok: false, problems: problems.list };
}

function compileDefinitions(definitions: ModdleElement, problems: Problems): ExecutableProcess[] {
  const namespaces = new Namespaces();
  namespaces.declare(definitions);
  checkAttributes(definitions, { base: DEFINITIONS_PROPERTIES }, namespaces, problems);
  const language = definitions.expressionLanguage as string | undefined;
  const context = {
    problems,
    namespaces,
    feelByDefault: language !== undefined && isFeelLanguage(language),
  };
  const processes: ExecutableProcess[] = [];
  let executable = 0;
  for (const root of (definitions.rootElements as ModdleElement[] | undefined) ?? []) {
    if (root.$type === 'bpmn:Process' && root.isExecutable === true) {
      executable += 1;
      const process = compileProcess(root, context);
      if (process !== null) processes.push(process);
    } else if (root.$type !== 'bpmn:Process' && !DECLARATIONS.has(root.$type)) {
      problems.add(
        root.id,
        typeName(root.$type),
        `${typeName(root.$type)} is not supported by the engine`,
      );
    }
  }
  if (executable === 0) {
    problems.add(
      definitions.id,
      'definitions',
      'the diagram has no executable process: set isExecutable="true" on a <process>',
    );
  }
  return processes;
}

function reportWarning(warning: ParseWarning, xml: string, problems: Problems): void {
  const firstLine = warning.message.split('\n')[0]!;
  // Unknown attributes also land in $attrs, where checkAttributes reports them with their namespace.
  if (firstLine.startsWith('unknown attribute')) return;
  const unparsable = /^unparsable content <([^>\s]+)>/.exec(firstLine);
  if (unparsable !== null) {
    const tag = unparsable[1]!;
    const detail = warning.error?.message ?? '';
    if (detail.startsWith('unknown type'))
      problems.unexecuted(
        idOfTag(xml, tag),
        typeName(tag),
        `unknown element <${tag}>: the engine does not execute it`,
      );
    else
      problems.add(
        idOfTag(xml, tag),
        typeName(tag),
        `invalid content <${tag}>: ${detail || firstLine}`,
      );
    return;
  }
  const elementType = warning.element === undefined ? 'document' : typeName(warning.element.$type);
  problems.add(warning.element?.id, elementType, firstLine);
}

/** Finds the id of a dropped element in the source, so the problem points at it. */
function idOfTag(xml: string, tag: string): string {
  const escaped = tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`<${escaped}\\b[^>]*?\\sid="([^"]*)"`).exec(xml)?.[1] ?? '';
}

function malformedReason(error: Error): string {
  const message = error.message;
  const nested = /nested error: (.+)/.exec(message)?.[1];
  const line = /line: (\d+)/.exec(message)?.[1];
  const column = /column: (\d+)/.exec(message)?.[1];
  if (nested === undefined) return `malformed XML: ${message.split('\n')[0]}`;
  const where =
    line === undefined ? '' : ` at line ${Number(line) + 1}, column ${Number(column ?? 0) + 1}`;
  return `malformed XML: ${nested}${where}`;
}
