import type { z } from 'zod';
import type { ActionCall, Connector, ConnectorLogger } from './connector.js';
import { parseActionInput, parseConnectorConfig } from './validation.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string | undefined;
}

/** A logger that keeps what it was told, so a test can assert on what a connector logged. */
export function createRecordingLogger(): ConnectorLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (fields: Record<string, unknown>, message?: string) => {
    entries.push({ level, fields, message });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface RunActionOptions {
  config: unknown;
  input: unknown;
  signal?: AbortSignal;
  logger?: ConnectorLogger;
  /** The process call the runtime would describe; actions that need a tenant or idempotency key read it. */
  call?: ActionCall;
}

/**
 * Runs one action as the runtime would: config and input are validated first (a ConnectorValidationError
 * names the bad field), then `run` gets the parsed values.
 */
export async function runAction<
  S extends z.ZodType,
  Inputs extends Record<string, z.ZodType>,
  Name extends keyof Inputs & string,
>(
  connector: Connector<S, Inputs>,
  actionName: Name,
  options: RunActionOptions,
): Promise<Record<string, unknown> | void> {
  const config = parseConnectorConfig(connector, options.config);
  const input = parseActionInput(
    connector as unknown as Connector,
    actionName,
    options.input,
  ) as z.output<Inputs[Name]>;
  const action = connector.actions[actionName];
  return action.run(input, {
    config,
    signal: options.signal ?? new AbortController().signal,
    logger: options.logger ?? createRecordingLogger(),
    call: options.call,
  });
}
