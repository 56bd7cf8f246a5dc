/**
 * A connector's config is validated with its own schema at start-up, a key the schema does not
 * know included: a misspelt one (`timeoutMS`) stops the start naming the connector and the field,
 * rather than leaving the default in force without a word.
 */
import { createPecConnector } from '@pectrack/connector-pec';
import { describe, expect, it } from 'vitest';
import { builtinConnectors, installAll } from '../../src/connectors/index.js';

const pec = createPecConnector({ send: () => Promise.reject(new Error('not called')) });

describe('connector config validated at start', () => {
  it('refuses a misspelt pectrack:http key (timeoutMS) naming the connector and the field', () => {
    // Dropped, the operator's 1.5 s would give way to the default 10 s.
    expect(() =>
      installAll(builtinConnectors(), { 'pectrack:http': { timeoutMS: 1_500 } }),
    ).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        variable: 'PECTRACK_CONNECTORS_CONFIG',
        message: expect.stringMatching(/connector "pectrack:http" is invalid: .*timeoutMS/),
      }),
    );
  });

  it('refuses a misspelt pectrack:pec key (mailboxID) instead of starting with no default mailbox', () => {
    // Dropped, every send task without its own mailboxId would
    // fail with MAILBOX_MISSING, long after the typo.
    expect(() => installAll([pec], { 'pectrack:pec': { mailboxID: 'mbx-protocollo' } })).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        variable: 'PECTRACK_CONNECTORS_CONFIG',
        message: expect.stringMatching(/connector "pectrack:pec" is invalid: .*mailboxID/),
      }),
    );
  });
});
