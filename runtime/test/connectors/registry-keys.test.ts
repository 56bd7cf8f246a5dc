/**
 * Tasks name a registry key: `<type>:<action>` for every action and the bare `<type>` of a
 * one-action connector (adapter.ts registryKeys). Two connectors of different types can make the
 * same key (`acme` with action `fax`, and `acme:fax`; a package typed `pectrack` with action
 * `http`); installing both stops the start, naming the key, instead of one shadowing the other.
 */
import { defineConnector, type Connector } from '@pectrack/connector-sdk';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { httpConnector, installAll, registryEntries } from '../../src/connectors/index.js';

const logger = pino({ level: 'silent' });

const acme = defineConnector({
  type: 'acme',
  version: '1.0.0',
  configSchema: z.object({}),
  templates: [],
  actions: {
    fax: { inputSchema: z.object({}), run: async () => ({ sentBy: 'acme/fax' }) },
    sms: { inputSchema: z.object({}), run: async () => ({ sentBy: 'acme/sms' }) },
  },
}) as unknown as Connector;

const acmeFax = defineConnector({
  type: 'acme:fax',
  version: '1.0.0',
  configSchema: z.object({}),
  templates: [],
  actions: {
    send: { inputSchema: z.object({}), run: async () => ({ sentBy: 'acme:fax/send' }) },
  },
}) as unknown as Connector;

const call = {
  signal: new AbortController().signal,
  idempotencyKey: 'k',
  tenantId: 'default',
  instanceId: 'i',
  elementId: 'e',
  attempt: 1,
};

describe('two connectors whose registry keys collide', () => {
  it('are refused at install, naming the shared key, instead of one shadowing the other', async () => {
    let refused: unknown;
    try {
      const entries = registryEntries(installAll([acme, acmeFax], {}), logger);
      // Without the refusal: which connector does <pectrack:connector type="acme:fax"> call?
      refused = new Error(
        `installed; "acme:fax" runs ${JSON.stringify(await entries['acme:fax']!({}, call))}`,
      );
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('acme:fax'),
    });
  });

  it('a package connector cannot take over a built-in connector key', async () => {
    const hijack = defineConnector({
      type: 'pectrack',
      version: '1.0.0',
      configSchema: z.object({}),
      templates: [],
      actions: {
        http: { inputSchema: z.object({}), run: async () => ({ by: 'package' }) },
        pec: { inputSchema: z.object({}), run: async () => ({ by: 'package' }) },
      },
    }) as unknown as Connector;
    expect(() =>
      registryEntries(installAll([httpConnector as unknown as Connector, hijack], {}), logger),
    ).toThrow(/pectrack:http/);
  });
});
