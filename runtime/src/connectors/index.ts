/** Connectors in the runtime (ARCHITECTURE §5): discovery, config, the scheduler adapter, the designer catalog. */
export { registryEntries, registryKeys, type InstalledConnector } from './adapter.js';
export { describeConnectors, type ConnectorDescription } from './catalog.js';
export { discoverConnectors, installAll } from './discovery.js';
export { builtinConnectors, httpConnector, pecConnector } from './builtin/index.js';
