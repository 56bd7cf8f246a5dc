import { evaluate } from '@bpmn-io/feelin';
import { describe, expect, it } from 'vitest';
import { compileFeel, type FeelEvaluator } from './feel.js';

function evaluator(source: string): FeelEvaluator {
  const compiled = compileFeel(source);
  if (!compiled.ok) throw new Error(compiled.reason);
  return compiled.evaluate;
}

/** feelin's own answer, in the engine's outcome shape. */
function reference(source: string, variables: Record<string, unknown>) {
  const { value, warnings } = evaluate(source, variables);
  return value === null && warnings.length > 0 ? { ok: false } : { ok: true, value };
}

describe('compileFeel', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['approved', { approved: true }],
    ['approved', { approved: 'yes' }],
    ['approved', {}],
    ['approved = true', { approved: true }],
    ['approved = true', { approved: false }],
    ['approved = true', {}],
    ['approved = true', { approved: 'true' }],
    ['amount != 10', { amount: 10 }],
    ['amount != 10', { amount: 11.5 }],
    ['office = "protocollo"', { office: 'protocollo' }],
    ['office = "protocollo"', { office: null }],
    ['amount > 10 and urgent', { amount: 11, urgent: true }],
    ['amount > 10 and urgent', { amount: 9, urgent: true }],
    ['amount > 10 and urgent', { amount: 11 }],
    ['count(items) > 1', { items: [1, 2] }],
    ['amount > 5000', { amount: 5000 }],
    ['amount > 5000', { amount: 5000.5 }],
    ['amount >= 5000', { amount: 5000 }],
    ['amount < -1.5', { amount: -2 }],
    ['amount <= 0', { amount: 0 }],
    ['amount > 5000', { amount: '6000' }],
    ['amount > 5000', {}],
    ['name > "m"', { name: 'z' }],
    ['code = 007', { code: 7 }],
  ];

  it.each(cases)('answers %s with %j exactly as feelin does', (source, variables) => {
    const outcome = evaluator(source)(variables);
    const expected = reference(source, variables);
    if (expected.ok) expect(outcome).toEqual(expected);
    else expect(outcome.ok).toBe(false);
  });

  it('keeps answering correctly when it remembers results, value by value', () => {
    const source = 'amount > limit or office = "ragioneria"';
    const compiled = evaluator(source);
    for (let round = 0; round < 3; round += 1) {
      for (const variables of [
        { amount: 5, limit: 3, office: 'protocollo' },
        { amount: 1, limit: 3, office: 'protocollo' },
        { amount: 1, limit: 3, office: 'ragioneria' },
        { amount: 1, limit: 3 },
        { amount: '1', limit: 3, office: 'protocollo' },
      ]) {
        expect(compiled(variables), JSON.stringify(variables)).toEqual(
          reference(source, variables),
        );
      }
    }
  });

  it('reports a missing variable as an error naming it', () => {
    expect(evaluator('x + 1')({})).toEqual({
      ok: false,
      message: "Variable 'x' not found; Can't add '1' to 'null'",
    });
  });

  it('refuses invalid FEEL with the position, and empty FEEL', () => {
    expect(compileFeel('if a > 1 then "big" else "small"').ok).toBe(true);
    const invalid = compileFeel('a >> (');
    expect(!invalid.ok && invalid.reason).toMatch(/^invalid FEEL syntax at position \d+/);
    expect(compileFeel('  ')).toEqual({ ok: false, reason: 'the FEEL expression is empty' });
  });
});
