import { z } from 'zod';
import { ConnectorError, ConnectorValidationError, type ValidationIssue } from './errors.js';
import type { Connector } from './connector.js';

/**
 * Validates a connector's config the way the runtime does before any call; throws CONFIG_INVALID.
 * A key the schema does not know is refused, not dropped: a misspelt setting (`timeoutMS`) would
 * otherwise leave its default in force without a word.
 */
export function parseConnectorConfig<S extends z.ZodType>(
  connector: Connector<S>,
  raw: unknown,
): z.output<S> {
  const schema = connector.configSchema;
  // strict() keeps the schema's output: the cast only tells TypeScript so.
  const strict = (schema instanceof z.ZodObject ? schema.strict() : schema) as S;
  const result = strict.safeParse(raw);
  if (!result.success) {
    throw new ConnectorValidationError(
      'CONFIG_INVALID',
      `config of connector "${connector.type}"`,
      toIssues(result.error),
    );
  }
  return result.data;
}

/** Validates one action's input; throws INPUT_INVALID naming every bad field. */
export function parseActionInput(connector: Connector, actionName: string, raw: unknown): unknown {
  const action = connector.actions[actionName];
  if (!action) {
    throw new ConnectorError(
      'ACTION_UNKNOWN',
      `connector "${connector.type}" has no action "${actionName}"`,
    );
  }
  const result = action.inputSchema.safeParse(raw);
  if (!result.success) {
    throw new ConnectorValidationError(
      'INPUT_INVALID',
      `input of action "${actionName}"`,
      toIssues(result.error),
    );
  }
  return result.data;
}

function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}
