import { evaluate, parseExpression } from '@bpmn-io/feelin';
import type { Variables } from '../types.js';

export type FeelOutcome = { ok: true; value: unknown } | { ok: false; message: string };

/** A FEEL expression compiled once per deployed definition. */
export type FeelEvaluator = (variables: Variables) => FeelOutcome;

export type CompiledFeel = { ok: true; evaluate: FeelEvaluator } | { ok: false; reason: string };

const IDENTIFIER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/;
const COMPARISON =
  /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*(true|false|-?(?:0|[1-9]\d*)(?:\.\d+)?|"[^"\\]*")\s*$/;
const COMPARE: Readonly<Record<string, (value: never, literal: never) => boolean>> = {
  '=': (value, literal) => value === literal,
  '!=': (value, literal) => value !== literal,
  '<': (value, literal) => value < literal,
  '<=': (value, literal) => value <= literal,
  '>': (value, literal) => value > literal,
  '>=': (value, literal) => value >= literal,
};
const KEYWORDS = new Set([
  'true',
  'false',
  'null',
  'not',
  'and',
  'or',
  'if',
  'for',
  'some',
  'every',
]);
/** FEEL built-ins that read the clock: their results must never be remembered. */
const CLOCK_FUNCTIONS = new Set(['now', 'today']);
/** Remembered results per expression; cleared when full, which keeps memory bounded. */
const MEMO_SIZE = 256;

/**
 * Checks and compiles a FEEL expression. feelin parses on every evaluation (0.1 ms and more),
 * so evaluation avoids it where the answer is known without it:
 * - a variable reference, or a comparison of a variable with a literal of the same type
 *   (equality for texts and booleans, equality and order for numbers), is answered directly;
 * - otherwise, while the variables the expression reads hold primitive values, the result is
 *   remembered per combination of those values (FEEL is side-effect free; clock functions
 *   excluded).
 * Anything else, including a missing variable (for feelin's null and warning semantics), is
 * evaluated by feelin.
 */
export function compileFeel(source: string): CompiledFeel {
  const analysis = analyse(source);
  if (analysis.error !== null) return { ok: false, reason: analysis.error };
  const general = (variables: Variables) => evaluateWithFeelin(source, variables);
  const fallback = analysis.readsClock ? general : memoised(analysis.names, general);
  return { ok: true, evaluate: shortcut(source, fallback) ?? fallback };
}

interface Analysis {
  error: string | null;
  names: string[];
  readsClock: boolean;
}

function analyse(source: string): Analysis {
  if (source.trim() === '')
    return { error: 'the FEEL expression is empty', names: [], readsClock: false };
  const names = new Set<string>();
  let error: string | null = null;
  parseExpression(source, {}, undefined).iterate({
    enter(node) {
      if (node.type.isError) {
        error ??= `invalid FEEL syntax at position ${node.from}: ${JSON.stringify(source)}`;
        return false;
      }
      if (node.name === 'VariableName') names.add(source.slice(node.from, node.to));
      return undefined;
    },
  });
  const readsClock = [...names].some((name) => CLOCK_FUNCTIONS.has(name));
  return { error, names: [...names], readsClock };
}

function shortcut(source: string, fallback: FeelEvaluator): FeelEvaluator | null {
  const identifier = IDENTIFIER.exec(source)?.[1];
  if (identifier !== undefined && !KEYWORDS.has(identifier)) {
    return (variables) => {
      const value = Object.hasOwn(variables, identifier) ? variables[identifier] : undefined;
      return value === undefined ? fallback(variables) : { ok: true, value };
    };
  }
  const comparison = COMPARISON.exec(source);
  if (comparison === null || KEYWORDS.has(comparison[1]!)) return null;
  const [, name, operator, literalText] = comparison as unknown as [string, string, string, string];
  const literal = JSON.parse(literalText) as never;
  const ordering = operator !== '=' && operator !== '!=';
  // FEEL orders strings and dates its own way: only numbers are ordered here.
  if (ordering && typeof literal !== 'number') return null;
  const compare = COMPARE[operator]!;
  return (variables) => {
    const value = (Object.hasOwn(variables, name) ? variables[name] : undefined) as never;
    if (typeof value !== typeof literal) return fallback(variables);
    return { ok: true, value: compare(value, literal) };
  };
}

function memoised(names: readonly string[], general: FeelEvaluator): FeelEvaluator {
  const memo = new Map<string, FeelOutcome>();
  return (variables) => {
    const key = memoKey(names, variables);
    if (key === null) return general(variables);
    const remembered = memo.get(key);
    if (remembered !== undefined) return remembered;
    const outcome = general(variables);
    if (outcome.ok && outcome.value !== null && typeof outcome.value === 'object') return outcome;
    if (memo.size >= MEMO_SIZE) memo.clear();
    memo.set(key, outcome);
    return outcome;
  };
}

/** The values the expression reads, as a text; null when one of them is not a primitive. */
function memoKey(names: readonly string[], variables: Variables): string | null {
  let key = '';
  for (const name of names) {
    const value = Object.hasOwn(variables, name) ? variables[name] : undefined;
    if (value === undefined) key += '~,';
    else if (value === null || typeof value !== 'object') key += `${JSON.stringify(value)},`;
    else return null;
  }
  return key;
}

function evaluateWithFeelin(source: string, variables: Variables): FeelOutcome {
  try {
    const { value, warnings } = evaluate(source, variables);
    if ((value === null || value === undefined) && warnings.length > 0) {
      return { ok: false, message: warnings.map((w) => w.message).join('; ') };
    }
    return { ok: true, value: value ?? null };
  } catch (error) {
    return { ok: false, message: `FEEL evaluation failed: ${(error as Error).message}` };
  }
}
