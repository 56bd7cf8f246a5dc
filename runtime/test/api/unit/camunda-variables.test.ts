import { describe, expect, it } from 'vitest';
import { fromCamundaVariables, toCamundaVariables } from '../../../src/api/camunda/variables.js';
import { parseCamundaDate, toCamundaDate } from '../../../src/api/camunda/dates.js';

describe('Camunda typed variables', () => {
  it('converts each supported type the way Camunda would', () => {
    expect(
      fromCamundaVariables({
        s: { value: 'text', type: 'String' },
        n: { value: 7, type: 'String' },
        i: { value: '42', type: 'Integer' },
        l: { value: 9007199254740991, type: 'Long' },
        sh: { value: -3, type: 'short' },
        d: { value: '2.5', type: 'Double' },
        b: { value: 'false', type: 'Boolean' },
        dt: { value: '2026-01-31T10:00:00.000+0100', type: 'Date' },
        j: { value: '{"a":[1,2]}', type: 'Json' },
        o: {
          value: '{"x":1}',
          type: 'Object',
          valueInfo: { serializationDataFormat: 'application/json' },
        },
        nul: { value: null, type: 'Null' },
        untyped: { value: { free: true } },
        empty: { value: null, type: 'Integer' },
      }),
    ).toEqual({
      s: 'text',
      n: '7',
      i: 42,
      l: 9007199254740991,
      sh: -3,
      d: 2.5,
      b: false,
      dt: '2026-01-31T09:00:00.000Z',
      j: { a: [1, 2] },
      o: { x: 1 },
      nul: null,
      untyped: { free: true },
      empty: null,
    });
  });

  it.each([
    [
      { value: 'abc', type: 'Integer' },
      "Cannot convert value 'abc' of type 'Integer' to java type java.lang.Integer",
    ],
    [{ value: 2 ** 31, type: 'Integer' }, 'java.lang.Integer'],
    [{ value: 1.5, type: 'Long' }, 'java.lang.Long'],
    [{ value: 40000, type: 'Short' }, 'java.lang.Short'],
    [{ value: 'many', type: 'Double' }, 'java.lang.Double'],
    [{ value: 'yes', type: 'Boolean' }, 'java.lang.Boolean'],
    [{ value: 'tomorrow', type: 'Date' }, 'java.util.Date'],
    [{ value: '{broken', type: 'Json' }, 'a JSON document'],
    [{ value: { a: 1 }, type: 'String' }, 'java.lang.String'],
    [{ value: 'x', type: 'Bytes' }, "Unsupported value type 'Bytes'"],
    [
      {
        value: 'x',
        type: 'Object',
        valueInfo: { serializationDataFormat: 'application/x-java-serialized-object' },
      },
      'only application/json',
    ],
    ['plain', 'must be an object'],
  ])('refuses %j naming the variable', (variable, message) => {
    expect(() => fromCamundaVariables({ amount: variable })).toThrow(message);
    expect(() => fromCamundaVariables({ amount: variable })).toThrow('amount');
  });

  it('refuses variables that are not a map', () => {
    expect(() => fromCamundaVariables([1, 2])).toThrow('variables must be an object');
    expect(fromCamundaVariables(null)).toEqual({});
  });

  it('types plain values on the way out', () => {
    expect(
      toCamundaVariables({ a: 'x', b: 3, c: 2 ** 40, d: 0.5, e: true, f: null, g: { h: 1 } }),
    ).toEqual({
      a: { type: 'String', value: 'x', valueInfo: {} },
      b: { type: 'Integer', value: 3, valueInfo: {} },
      c: { type: 'Long', value: 2 ** 40, valueInfo: {} },
      d: { type: 'Double', value: 0.5, valueInfo: {} },
      e: { type: 'Boolean', value: true, valueInfo: {} },
      f: { type: 'Null', value: null, valueInfo: {} },
      g: { type: 'Json', value: '{"h":1}', valueInfo: {} },
    });
  });

  it('formats and parses Camunda dates', () => {
    expect(toCamundaDate('2026-11-27T07:30:37.5Z')).toBe('2026-11-27T07:30:37.500+0000');
    expect(toCamundaDate(null)).toBeNull();
    expect(parseCamundaDate('2013-01-23T13:42:42.000+0200')?.toISOString()).toBe(
      '2013-01-23T11:42:42.000Z',
    );
    expect(parseCamundaDate('2013-01-23T13:42:42Z')?.toISOString()).toBe(
      '2013-01-23T13:42:42.000Z',
    );
    expect(parseCamundaDate('23/01/2013')).toBeNull();
    expect(parseCamundaDate('2013-13-45T99:99:99')).toBeNull();
  });
});
