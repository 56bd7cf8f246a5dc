import { z } from 'zod';
import { ConnectorDefinitionError } from './errors.js';
import type { ElementTemplate, TemplateProperty } from './templates.js';

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
  for (const template of definition.templates) checkTemplate(definition, template);
  return Object.freeze({ ...definition });
}

/**
 * What a template writes into a diagram must run: exactly one connector type, this one; an action
 * when the connector has several (each is registered as `type:action` only); inputs its action's
 * schema takes, every required one among them. Else each process reaching the task stops with an
 * incident, long after the package was installed.
 */
function checkTemplate(
  definition: Pick<
    ConnectorDefinition<z.ZodType, Record<string, z.ZodType>, never>,
    'type' | 'actions'
  >,
  template: ElementTemplate,
): void {
  const { type } = definition;
  const refuse = (why: string) => {
    throw new ConnectorDefinitionError(type, `template "${template.id}" ${why}`);
  };
  const bound = (property: 'type' | 'action') =>
    template.properties.filter(
      (p) => p.binding.type === 'pectrack:connector' && p.binding.property === property,
    );
  const types = bound('type');
  if (types.length !== 1) refuse(`binds the connector type ${types.length} times, not once`);
  if (types[0]!.value !== type) refuse(`binds connector type "${String(types[0]!.value)}"`);
  const actionNames = Object.keys(definition.actions);
  const actions = bound('action');
  if (actions.length > 1) refuse(`binds the action ${actions.length} times`);
  const [action] = actions;
  if (!action && actionNames.length > 1)
    refuse(`binds no action, and "${type}" has several (${actionNames.join(', ')})`);
  const chosen = action ? actionChoices(action) : actionNames;
  for (const name of chosen)
    if (!actionNames.includes(name)) refuse(`binds unknown action "${name}"`);
  const inputs = template.properties.flatMap((p) =>
    p.binding.type === 'pectrack:input' ? [p.binding.name] : [],
  );
  // One action fixed: its inputs are known. A dropdown of actions: each reads the same inputs.
  for (const name of chosen) checkInputs(definition.actions[name]!.inputSchema, inputs, refuse);
}

/** The actions an action property may set: its value, or the choices of a dropdown. */
function actionChoices(property: TemplateProperty): string[] {
  if (property.type === 'Dropdown' && property.choices) return property.choices.map((c) => c.value);
  return [String(property.value)];
}

/**
 * Against an object schema (the usual case; another schema is the action's own business): no
 * input it does not know (a strict schema refuses it, a loose one drops it: either way the
 * template's field does nothing), and every field it requires offered.
 */
function checkInputs(schema: z.ZodType, inputs: string[], refuse: (why: string) => never): void {
  if (!(schema instanceof z.ZodObject)) return;
  const shape = schema.shape as Record<string, z.ZodType>;
  for (const name of inputs)
    if (!(name in shape)) refuse(`binds input "${name}", which the action does not take`);
  for (const [name, field] of Object.entries(shape))
    // A field that takes `undefined` (optional, or with a default) need not be offered.
    if (!inputs.includes(name) && !field.safeParse(undefined).success)
      refuse(`never offers input "${name}", which the action requires`);
}
