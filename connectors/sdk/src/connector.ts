import type { z } from 'zod';
import { ConnectorDefinitionError } from './errors.js';
import type { ElementTemplate } from './templates.js';

/** The pino-compatible subset of a logger a connector may use. */
export interface ConnectorLogger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
}

/** Which call this is: a receiver deduplicates on `idempotencyKey`, which stays the same across retries. */
export interface ActionCall {
  idempotencyKey: string;
  tenantId: string;
  instanceId: string;
  elementId: string;
  attempt: number;
}

/** What the runtime hands to every action call. `signal` aborts when the job is cancelled or times out. */
export interface ActionContext<Config> {
  config: Config;
  signal: AbortSignal;
  logger: ConnectorLogger;
  /** Absent when the action runs outside a process (the SDK's `runAction` in a unit test). */
  call?: ActionCall;
}

export interface ActionDefinition<Config, InputSchema extends z.ZodType = z.ZodType> {
  description?: string;
  inputSchema: InputSchema;
  /** Output fields are what `pectrack:output` bindings may read. */
  run(
    input: z.output<InputSchema>,
    context: ActionContext<Config>,
  ): Promise<Record<string, unknown> | void>;
}

/** What the runtime hands to a trigger: `emit` records one inbound event, durably, before it resolves. */
export interface TriggerContext<Config, Event> extends ActionContext<Config> {
  emit(event: Event): Promise<void>;
}

export interface TriggerDefinition<
  Config,
  ParamsSchema extends z.ZodType = z.ZodType,
  Event = unknown,
> {
  description?: string;
  paramsSchema: ParamsSchema;
  /** Runs until `context.signal` aborts; resolves once the trigger has stopped. */
  start(params: z.output<ParamsSchema>, context: TriggerContext<Config, Event>): Promise<void>;
}

type ActionMap<Config, Inputs extends Record<string, z.ZodType>> = {
  [Name in keyof Inputs]: ActionDefinition<Config, Inputs[Name]>;
};

type TriggerMap<Config, Params extends Record<string, z.ZodType>> = {
  [Name in keyof Params]: TriggerDefinition<Config, Params[Name], unknown>;
};

export interface ConnectorDefinition<
  ConfigSchema extends z.ZodType,
  Inputs extends Record<string, z.ZodType>,
  Params extends Record<string, z.ZodType>,
> {
  /** Stable id, e.g. `pectrack:pec`; the value of the `pectrack:connector` type binding. */
  type: string;
  version: string;
  configSchema: ConfigSchema;
  templates: ElementTemplate[];
  actions: ActionMap<z.output<ConfigSchema>, Inputs>;
  triggers?: TriggerMap<z.output<ConfigSchema>, Params>;
}

export type Connector<
  ConfigSchema extends z.ZodType = z.ZodType,
  Inputs extends Record<string, z.ZodType> = Record<string, z.ZodType>,
  Params extends Record<string, z.ZodType> = Record<string, z.ZodType>,
> = Readonly<ConnectorDefinition<ConfigSchema, Inputs, Params>>;

/**
 * Declares a connector. It checks that the templates only bind this connector's type and actions,
 * so a broken package fails when it is loaded, not when a process reaches the task.
 */
export function defineConnector<
  ConfigSchema extends z.ZodType,
  Inputs extends Record<string, z.ZodType>,
  Params extends Record<string, z.ZodType> = Record<never, z.ZodType>,
>(
  definition: ConnectorDefinition<ConfigSchema, Inputs, Params>,
): Connector<ConfigSchema, Inputs, Params> {
  if (!/^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$/.test(definition.type)) {
    throw new ConnectorDefinitionError(
      definition.type,
      'type must be lower-case letters, digits and dashes, optionally prefixed "ns:"',
    );
  }
  if (!/^\d+\.\d+\.\d+/.test(definition.version)) {
    throw new ConnectorDefinitionError(
      definition.type,
      `version "${definition.version}" is not semver`,
    );
  }
  for (const template of definition.templates)
    checkTemplate(definition.type, Object.keys(definition.actions), template);
  return Object.freeze({ ...definition });
}

function checkTemplate(type: string, actionNames: string[], template: ElementTemplate): void {
  for (const property of template.properties) {
    const { binding } = property;
    if (binding.type !== 'pectrack:connector') continue;
    const value = property.value;
    if (binding.property === 'type' && value !== type) {
      throw new ConnectorDefinitionError(
        type,
        `template "${template.id}" binds connector type "${String(value)}"`,
      );
    }
    if (
      binding.property === 'action' &&
      (typeof value !== 'string' || !actionNames.includes(value))
    ) {
      throw new ConnectorDefinitionError(
        type,
        `template "${template.id}" binds unknown action "${String(value)}"`,
      );
    }
  }
}
