import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { builtinConnectors, discoverConnectors, installAll } from '../../src/connectors/index.js';

describe('connector discovery and config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pectrack-connectors-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const configFile = async (content: string) => {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, content);
    return file;
  };

  it('reads PECTRACK_CONNECTORS as a package list and resolves the config file', () => {
    const config = loadConfig({
      PECTRACK_CONNECTORS: ' @acme/connector-fax , pectrack-connector-sms,',
      PECTRACK_CONNECTORS_CONFIG: 'connectors.json',
    });
    expect(config.connectors).toEqual({
      packages: ['@acme/connector-fax', 'pectrack-connector-sms'],
      configFile: expect.stringMatching(/\/connectors\.json$/),
    });
  });

  it('validates each connector config with its schema and applies defaults', async () => {
    const installed = await discoverConnectors(
      { packages: [], configFile: await configFile('{"pectrack:http":{"timeoutMs":1500}}') },
      builtinConnectors(),
    );
    expect(installed.map((i) => [i.connector.type, i.config])).toEqual([
      ['pectrack:http', { timeoutMs: 1500 }],
    ]);
    expect(installAll(builtinConnectors(), {})[0]!.config).toEqual({ timeoutMs: 10_000 });
  });

  it('names the connector and the field of an invalid config', () => {
    expect(() =>
      installAll(builtinConnectors(), { 'pectrack:http': { timeoutMs: 'soon' } }),
    ).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        variable: 'PECTRACK_CONNECTORS_CONFIG',
        message: expect.stringMatching(/connector "pectrack:http" is invalid: timeoutMs: /),
      }),
    );
  });

  it('refuses config for a connector that is not installed, and a file that is not JSON', async () => {
    expect(() => installAll(builtinConnectors(), { 'pectrack:fax': {} })).toThrow(
      /PECTRACK_CONNECTORS_CONFIG configures "pectrack:fax", which is not installed/,
    );
    await expect(
      discoverConnectors({ packages: [], configFile: await configFile('{"pectrack:http":') }, []),
    ).rejects.toThrow(/PECTRACK_CONNECTORS_CONFIG cannot be read as JSON/);
  });

  it('names a package that is missing or exports no connector', async () => {
    await expect(
      discoverConnectors({ packages: ['@pectrack/no-such-connector'], configFile: undefined }, []),
    ).rejects.toThrow(
      /PECTRACK_CONNECTORS names "@pectrack\/no-such-connector", which cannot be loaded/,
    );
    await expect(
      discoverConnectors({ packages: ['@pectrack/connector-sdk'], configFile: undefined }, []),
    ).rejects.toThrow(ConfigError);
  });
});
