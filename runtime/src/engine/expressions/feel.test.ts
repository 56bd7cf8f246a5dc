import { evaluate } from '@bpmn-io/feelin';
import { describe, expect, it } from 'vitest';
import { compileFeel, feelSyntaxError } from './feel.js';

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
  ];

  it.each(cases)('answers %s with %j exactly as feelin does', (source, variables) => {
    const reference = evaluate(source, variables);
    const outcome = compileFeel(source)(variables);
    if (reference.value === null && reference.warnings.length > 0) {
      expect(outcome.ok).toBe(false);
    } else {
      expect(outcome).toEqual({ ok: true, value: reference.value });
    }
  });

  it('reports a missing variable as an error naming it', () => {
    expect(compileFeel('x + 1')({})).toEqual({
      ok: false,
      message: "Variable 'x' not found; Can't add '1' to 'null'",
    });
  });
});

describe('feelSyntaxError', () => {
  it('accepts valid FEEL and reports invalid FEEL with the position', () => {
    expect(feelSyntaxError('if a > 1 then "big" else "small"')).toBeNull();
    expect(feelSyntaxError('a >> (')).toMatch(/^invalid FEEL syntax at position \d+/);
    expect(feelSyntaxError('  ')).toBe('the FEEL expression is empty');
  });
});
