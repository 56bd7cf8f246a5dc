/**
 * Camunda 7 typed variables (`{ value, type, valueInfo }`) to and from plain
 * JSON values. Conversions follow the Java types Camunda would produce, and a
 * value that does not fit its declared type is refused naming the variable.
 */
import { BadRequestError } from '../../errors.js';
import type { Variables } from '../../engine/types.js';
import { parseCamundaDate } from './dates.js';

export interface CamundaVariable {
  value?: unknown;
  type?: string | null;
  valueInfo?: Record<string, unknown> | null;
}

export class VariableTypeError extends BadRequestError {
  constructor(name: string, value: unknown, type: string, javaType: string) {
    super(
      'invalid-variable',
      `Cannot convert value '${display(value)}' of type '${type}' to java type ${javaType} (variable '${name}')`,
      { variable: name, type },
    );
  }
}

function display(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

type Converter = (name: string, value: unknown, info: Record<string, unknown>) => unknown;

function integral(type: string, javaType: string, min: number, max: number): Converter {
  return (name, value) => {
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
      throw new VariableTypeError(name, value, type, javaType);
    }
    return number;
  };
}

const CONVERTERS: Record<string, Converter> = {
  string: (name, value) => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new VariableTypeError(name, value, 'String', 'java.lang.String');
  },
  integer: integral('Integer', 'java.lang.Integer', -(2 ** 31), 2 ** 31 - 1),
  short: integral('Short', 'java.lang.Short', -(2 ** 15), 2 ** 15 - 1),
  long: integral('Long', 'java.lang.Long', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  double: (name, value) => {
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      throw new VariableTypeError(name, value, 'Double', 'java.lang.Double');
    }
    return number;
  },
  boolean: (name, value) => {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new VariableTypeError(name, value, 'Boolean', 'java.lang.Boolean');
  },
  date: (name, value) => {
    const date = typeof value === 'string' ? parseCamundaDate(value) : null;
    if (!date) throw new VariableTypeError(name, value, 'Date', 'java.util.Date');
    return date.toISOString();
  },
  json: (name, value) => parseSerialized(name, value, 'Json'),
  object: (name, value, info) => {
    const format = info.serializationDataFormat;
    if (format !== undefined && format !== 'application/json') {
      throw new BadRequestError(
        'invalid-variable',
        `Variable '${name}': only application/json serialization is supported for Object values, not ${String(format)}`,
        { variable: name, type: 'Object' },
      );
    }
    return parseSerialized(name, value, 'Object');
  },
  null: () => null,
};

function parseSerialized(name: string, value: unknown, type: string): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new VariableTypeError(name, value, type, 'a JSON document');
  }
}

function fromOne(name: string, variable: unknown): unknown {
  if (variable === null || typeof variable !== 'object' || Array.isArray(variable)) {
    throw new BadRequestError(
      'invalid-variable',
      `Variable '${name}' must be an object {"value": ..., "type": ...}`,
      { variable: name },
    );
  }
  const { value = null, type, valueInfo } = variable as CamundaVariable;
  if (type === undefined || type === null) return value;
  const convert = CONVERTERS[type.toLowerCase()];
  if (!convert) {
    throw new BadRequestError(
      'invalid-variable',
      `Unsupported value type '${type}' (variable '${name}')`,
      {
        variable: name,
        type,
      },
    );
  }
  return value === null && type.toLowerCase() !== 'null'
    ? null
    : convert(name, value, valueInfo ?? {});
}

export function fromCamundaVariables(input: unknown): Variables {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new BadRequestError(
      'invalid-variable',
      'variables must be an object of name → {value, type}',
    );
  }
  const variables: Variables = {};
  for (const [name, variable] of Object.entries(input)) variables[name] = fromOne(name, variable);
  return variables;
}

function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'Null';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number')
    return Number.isInteger(value) ? (Math.abs(value) < 2 ** 31 ? 'Integer' : 'Long') : 'Double';
  if (typeof value === 'string') return 'String';
  return 'Json';
}

export function toCamundaVariables(
  variables: Variables,
): Record<string, Required<CamundaVariable>> {
  const out: Record<string, Required<CamundaVariable>> = {};
  for (const [name, value] of Object.entries(variables)) {
    const type = typeOf(value);
    out[name] = {
      type,
      value: type === 'Json' ? JSON.stringify(value) : (value ?? null),
      valueInfo: {},
    };
  }
  return out;
}

/** Converts a request's variables, prefixing failures the way Camunda words them for the operation. */
export function fromCamundaVariablesFor(operation: string, input: unknown): Variables {
  try {
    return fromCamundaVariables(input);
  } catch (err) {
    if (err instanceof BadRequestError) {
      throw new BadRequestError(err.code, `${operation}: ${err.message}`, err.details);
    }
    throw err;
  }
}
