import { compileFeel, type FeelEvaluator } from './feel.js';

/**
 * A value written in a diagram: either a literal (`demo`, `PT1H`) or FEEL (`=amount > 100`).
 * FEEL follows the Zeebe convention of a leading `=`; Camunda 7's `${name}` is accepted as a
 * variable reference so Camunda Modeler diagrams deploy unchanged. Any other JUEL is refused:
 * the engine never evaluates JUEL or JavaScript.
 */
export type Expression =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'feel'; readonly source: string; readonly evaluate: FeelEvaluator };

export type FeelExpression = Extract<Expression, { kind: 'feel' }>;

export type ParsedExpression = { ok: true; expression: Expression } | { ok: false; reason: string };

const JUEL_VARIABLE = /^\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*$/;
const JUEL_ANY = /[$#]\{/;
const FEEL_LANGUAGES = new Set([
  'feel',
  'https://www.omg.org/spec/dmn/20191111/feel/',
  'http://www.omg.org/spec/feel/20140401',
  'https://www.omg.org/spec/feel/20140401',
]);

const JUEL_REASON =
  'JUEL expressions are not supported: use FEEL, e.g. "=amount > 100" (only ${variable} references are accepted)';

/** Parses an attribute value: `=FEEL`, `${variable}` or a literal. */
export function parseValue(raw: string): ParsedExpression {
  if (raw.startsWith('=')) return feel(raw.slice(1));
  const variable = JUEL_VARIABLE.exec(raw)?.[1];
  if (variable !== undefined) return feel(variable);
  if (JUEL_ANY.test(raw)) return { ok: false, reason: JUEL_REASON };
  return { ok: true, expression: { kind: 'literal', value: raw } };
}

/** Parses a condition or timer body, which must be FEEL (plain FEEL only when the language says so). */
export function parseFeelBody(raw: string, language: string | undefined): ParsedExpression {
  const body = raw.trim();
  if (language !== undefined && !isFeelLanguage(language)) {
    return { ok: false, reason: `expression language "${language}" is not supported: use FEEL` };
  }
  if (body.startsWith('=')) return feel(body.slice(1));
  const variable = JUEL_VARIABLE.exec(body)?.[1];
  if (variable !== undefined) return feel(variable);
  if (JUEL_ANY.test(body)) return { ok: false, reason: JUEL_REASON };
  if (language !== undefined) return feel(body);
  return { ok: true, expression: { kind: 'literal', value: body } };
}

export function isFeelLanguage(language: string): boolean {
  return FEEL_LANGUAGES.has(language.trim().toLowerCase());
}

function feel(source: string): ParsedExpression {
  const compiled = compileFeel(source);
  if (!compiled.ok) return compiled;
  return { ok: true, expression: { kind: 'feel', source, evaluate: compiled.evaluate } };
}
