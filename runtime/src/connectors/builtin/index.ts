/** The connectors every runtime has, whatever PECTRACK_CONNECTORS says. */
import type { Connector } from '@pectrack/connector-sdk';
import { httpConnector } from './http.js';

export { httpConnector } from './http.js';

export const BUILTIN_CONNECTORS: Connector[] = [httpConnector as unknown as Connector];
