/** What `/api/v1/connectors` tells the designer about each installed connector. */
import type { ElementTemplate } from '@pectrack/connector-sdk';
import type { InstalledConnector } from './adapter.js';
import { registryKeys } from './adapter.js';

export interface ConnectorDescription {
  type: string;
  version: string;
  actions: { name: string; description: string | null; connectorType: string }[];
  templates: ElementTemplate[];
}

export function describeConnectors(installed: InstalledConnector[]): ConnectorDescription[] {
  return installed.map(({ connector }) => ({
    type: connector.type,
    version: connector.version,
    actions: Object.entries(connector.actions).map(([name, action]) => ({
      name,
      description: action.description ?? null,
      // The value a diagram puts in <pectrack:connector type="…"> to call this action.
      connectorType: registryKeys(connector, name)[0]!,
    })),
    templates: connector.templates,
  }));
}
