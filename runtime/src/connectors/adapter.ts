/**
 * Turns an SDK connector into scheduler registry entries, one per action. The key is
 * `<type>:<action>`; a connector with a single action is also reachable as `<type>`, which is
 * what `<pectrack:connector type="…">` names (the engine has no separate action attribute).
 */
import { parseActionInput, type Connector } from '@pectrack/connector-sdk';
import type { Logger } from 'pino';
import type { Variables } from '../engine/types.js';
import type { ConnectorHandler } from '../scheduler/index.js';

/** A discovered connector with its validated config. */
export interface InstalledConnector {
  connector: Connector;
  config: unknown;
}

export function registryKeys(connector: Connector, action: string): string[] {
  const keys = [`${connector.type}:${action}`];
  if (Object.keys(connector.actions).length === 1) keys.unshift(connector.type);
  return keys;
}

export function registryEntries(
  installed: InstalledConnector[],
  logger: Logger,
): Record<string, ConnectorHandler> {
  const entries: Record<string, ConnectorHandler> = {};
  for (const { connector, config } of installed) {
    for (const action of Object.keys(connector.actions)) {
      const handler = actionHandler(connector, action, config, logger);
      for (const key of registryKeys(connector, action)) entries[key] = handler;
    }
  }
  return entries;
}

/**
 * Input is validated on every attempt: a ConnectorValidationError is not retryable, so the
 * scheduler raises the incident (naming the field) at once instead of repeating the same call.
 */
function actionHandler(
  connector: Connector,
  action: string,
  config: unknown,
  logger: Logger,
): ConnectorHandler {
  const run = connector.actions[action]!.run;
  return async (input, call) => {
    const parsed = parseActionInput(connector, action, input);
    const output = await run(parsed, {
      config,
      signal: call.signal,
      logger: logger.child({
        connector: connector.type,
        action,
        instanceId: call.instanceId,
        elementId: call.elementId,
        attempt: call.attempt,
      }),
      call: {
        idempotencyKey: call.idempotencyKey,
        tenantId: call.tenantId,
        instanceId: call.instanceId,
        elementId: call.elementId,
        attempt: call.attempt,
      },
    });
    return (output ?? {}) as Variables;
  };
}
