/**
 * Finds the connectors to install: the built-in ones plus the packages named in
 * PECTRACK_CONNECTORS, each exporting `connector` (or `connectors`). Every connector's config
 * (from the PECTRACK_CONNECTORS_CONFIG JSON file, keyed by connector type) is validated with its
 * own schema at start-up, so a typo stops the start with the connector and field named.
 */
import { readFile } from 'node:fs/promises';
import {
  ConnectorValidationError,
  parseConnectorConfig,
  type Connector,
} from '@pectrack/connector-sdk';
import { ConfigError, type ConnectorSettings } from '../config.js';
import { registryKeys, type InstalledConnector } from './adapter.js';

const PACKAGES_VARIABLE = 'PECTRACK_CONNECTORS';
const CONFIG_VARIABLE = 'PECTRACK_CONNECTORS_CONFIG';

export async function discoverConnectors(
  settings: ConnectorSettings,
  builtins: Connector[],
): Promise<InstalledConnector[]> {
  const configs = settings.configFile ? await readConfigFile(settings.configFile) : {};
  const connectors = [...builtins];
  for (const name of settings.packages) connectors.push(...(await loadPackage(name)));
  return installAll(connectors, configs);
}

/** Validates each connector's config; pure, so tests can feed it config without a file. */
export function installAll(
  connectors: Connector[],
  configs: Record<string, unknown>,
): InstalledConnector[] {
  const seen = new Set<string>();
  for (const connector of connectors) {
    if (seen.has(connector.type))
      throw new ConfigError(PACKAGES_VARIABLE, `installs connector "${connector.type}" twice`);
    seen.add(connector.type);
  }
  refuseSharedKeys(connectors);
  for (const type of Object.keys(configs)) {
    if (!seen.has(type))
      throw new ConfigError(CONFIG_VARIABLE, `configures "${type}", which is not installed`);
  }
  return connectors.map((connector) => ({
    connector,
    config: validConfig(connector, configs[connector.type] ?? {}),
  }));
}

/**
 * Tasks name a registry key: `type:action`, and the bare type of a one-action connector. Two
 * connectors may make the same one (`acme` with action `fax`, and `acme:fax`); the one installed
 * later would run the other's tasks without a word, so the start stops, naming both.
 */
function refuseSharedKeys(connectors: Connector[]): void {
  const owners = new Map<string, string>();
  for (const connector of connectors)
    for (const action of Object.keys(connector.actions))
      for (const key of registryKeys(connector, action)) {
        const owner = owners.get(key);
        if (owner !== undefined && owner !== connector.type)
          throw new ConfigError(
            PACKAGES_VARIABLE,
            `connectors "${owner}" and "${connector.type}" both answer to "${key}": a task naming it would run either`,
          );
        owners.set(key, connector.type);
      }
}

function validConfig(connector: Connector, raw: unknown): unknown {
  try {
    return parseConnectorConfig(connector, raw);
  } catch (error) {
    if (error instanceof ConnectorValidationError)
      throw new ConfigError(CONFIG_VARIABLE, `is invalid: ${error.message}`);
    throw error;
  }
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(CONFIG_VARIABLE, `cannot be read as JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError(CONFIG_VARIABLE, 'must be a JSON object keyed by connector type');
  return parsed as Record<string, unknown>;
}

async function loadPackage(name: string): Promise<Connector[]> {
  let exports: { connector?: Connector; connectors?: Connector[] };
  try {
    exports = (await import(name)) as typeof exports;
  } catch (error) {
    throw new ConfigError(
      PACKAGES_VARIABLE,
      `names "${name}", which cannot be loaded: ${(error as Error).message}`,
    );
  }
  const found = exports.connectors ?? (exports.connector ? [exports.connector] : []);
  if (found.length === 0)
    throw new ConfigError(
      PACKAGES_VARIABLE,
      `names "${name}", which exports neither \`connector\` nor \`connectors\``,
    );
  return found;
}
