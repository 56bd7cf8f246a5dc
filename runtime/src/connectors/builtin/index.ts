/** The connectors every runtime has, whatever PECTRACK_CONNECTORS says. */
import type { Connector } from '@pectrack/connector-sdk';
import type { Intake } from '../../intake/index.js';
import { httpConnector } from './http.js';
import { pecConnector } from './pec.js';

export { httpConnector } from './http.js';
export { pecConnector } from './pec.js';

/** `pectrack:pec` needs the intake it sends through; a runtime without one has only `pectrack:http`. */
export function builtinConnectors(options: { intake?: Intake } = {}): Connector[] {
  return [
    httpConnector as unknown as Connector,
    ...(options.intake ? [pecConnector(options.intake)] : []),
  ];
}
