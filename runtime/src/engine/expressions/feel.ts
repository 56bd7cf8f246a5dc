import { evaluate, parseExpression } from '@bpmn-io/feelin';
import type { Variables } from '../types.js';

export type FeelOutcome = { ok: true; value: unknown } | { ok: false; message: string };

/** A FEEL expression compiled once per deployed definition. */
export type FeelEvaluator = (variables: Variables) => FeelOutcome;

const IDENTIFIER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/;
const COMPARISON =
  /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|=)\s*(true|false|-?\d+(?:\.\d+)?|"[^"\\]*")\s*$/;
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

/** The reason `source` is not valid FEEL, or null when it parses. */
export function feelSyntaxError(source: string): string | null {
  if (source.trim() === '') return 'the FEEL expression is empty';
  let error: string | null = null;
  parseExpression(source, {}, undefined).iterate({
    enter(node) {
      if (error !== null) return false;
      if (node.type.isError) {
        error = `invalid FEEL syntax at position ${node.from}: ${JSON.stringify(source)}`;
        return false;
      }
      return undefined;
    },
  });
  return error;
}

/**
 * Compiles a FEEL expression. feelin re-parses on every call (tens of µs), so the two shapes
 * that dominate real diagrams — a variable reference and a comparison of a variable with a
 * literal — are answered directly when the variable holds a value of the literal's type; every
 * other case (including a missing variable, for feelin's null and warning semantics) goes to feelin.
 */
export function compileFeel(source: string): FeelEvaluator {
  const general = (variables: Variables) => evaluateWithFeelin(source, variables);
  const identifier = IDENTIFIER.exec(source)?.[1];
  if (identifier !== undefined && !KEYWORDS.has(identifier)) {
    return (variables) =>
      Object.hasOwn(variables, identifier) && variables[identifier] !== undefined
        ? { ok: true, value: variables[identifier] }
        : general(variables);
  }
  const comparison = COMPARISON.exec(source);
  if (comparison !== null && !KEYWORDS.has(comparison[1]!)) {
    const [, name, operator, literalText] = comparison as unknown as [
      string,
      string,
      string,
      string,
    ];
    const literal: unknown = JSON.parse(literalText);
    const negate = operator === '!=';
    return (variables) => {
      const value = Object.hasOwn(variables, name) ? variables[name] : undefined;
      if (typeof value !== typeof literal) return general(variables);
      return { ok: true, value: (value === literal) !== negate };
    };
  }
  return general;
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
