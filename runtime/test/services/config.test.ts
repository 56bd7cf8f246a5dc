import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestCa } from '@pectrack/connector-pec/testkit';
import { ConfigError, loadConfig } from '../../src/config.js';
import { mailTrustOf } from '../../src/intake/setup.js';

describe('configuration from the environment', () => {
  it('defaults to SQLite under ./data on port 3000 for tenant "default"', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({
      kind: 'sqlite',
      file: expect.stringMatching(/data\/pectrack\.sqlite$/),
    });
    expect([config.port, config.tenant, config.logLevel]).toEqual([3000, 'default', 'info']);
  });

  it('uses PostgreSQL for a postgres:// URL and a SQLite file under the data directory otherwise', () => {
    expect(loadConfig({ PECTRACK_DATABASE_URL: 'postgres://u@db:5432/pectrack' }).database).toEqual(
      {
        kind: 'postgresql',
        url: 'postgres://u@db:5432/pectrack',
      },
    );
    expect(loadConfig({ PECTRACK_DATA_DIR: '/srv/pectrack' }).database).toEqual({
      kind: 'sqlite',
      file: '/srv/pectrack/pectrack.sqlite',
    });
  });

  it('parses on the cores but one unless PECTRACK_PARSE_WORKERS says otherwise (0: main thread)', () => {
    expect(loadConfig({}).intake?.parseWorkers).toBe(Math.max(1, availableParallelism() - 1));
    expect(loadConfig({ PECTRACK_PARSE_WORKERS: '0' }).intake?.parseWorkers).toBe(0);
    expect(loadConfig({ PECTRACK_PARSE_WORKERS: '3' }).intake?.parseWorkers).toBe(3);
  });

  it('syncs new blobs by file system unless PECTRACK_BLOB_SYNC=file', () => {
    expect(loadConfig({}).intake?.blobSync).toBe('filesystem');
    expect(loadConfig({ PECTRACK_BLOB_SYNC: 'file' }).intake?.blobSync).toBe('file');
  });

  it('keeps receipts no process waits for yet for a week unless PECTRACK_RECEIPT_TTL_HOURS says', () => {
    expect(loadConfig({}).intake?.receiptTimeToLiveMs).toBe(7 * 24 * 3_600_000);
    expect(loadConfig({ PECTRACK_RECEIPT_TTL_HOURS: '1.5' }).intake?.receiptTimeToLiveMs).toBe(
      5_400_000,
    );
  });

  it('takes uploads up to PECTRACK_UPLOAD_MAX_MB, the API default (100 MB) when unset', () => {
    expect(loadConfig({}).uploadMaxBytes).toBeUndefined();
    expect(loadConfig({ PECTRACK_UPLOAD_MAX_MB: '30' }).uploadMaxBytes).toBe(30 * 1048576);
  });

  it('trusts the mail servers of PECTRACK_MAIL_CA beside the system authorities, each certificate checked at start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pectrack-mail-ca-'));
    try {
      const [first, second] = [createTestCa(), createTestCa({ commonName: 'Seconda CA' })];
      const bundle = join(dir, 'bundle.pem');
      await writeFile(
        bundle,
        `# the body's relays\n${first.certificatePem}\n${second.certificatePem}`,
      );
      const config = loadConfig({ PECTRACK_MAIL_CA: 'bundle.pem' });
      expect(config.intake?.mailCaFile).toBe(resolve('bundle.pem'));
      expect(loadConfig({}).intake?.mailCaFile).toBeUndefined();
      const trusted = await mailTrustOf(bundle);
      expect(trusted.map((pem) => new X509Certificate(pem).subject)).toEqual([
        'CN=PECtrack Test CA',
        'CN=Seconda CA',
      ]);
      const broken = join(dir, 'broken.pem');
      await writeFile(broken, first.certificatePem.replace(/[A-Za-z]{12}\n/, '\n'));
      const empty = join(dir, 'empty.pem');
      await writeFile(empty, 'not a certificate');
      const refusals = await Promise.all(
        [broken, empty, join(dir, 'missing.pem')].map((file) => mailTrustOf(file).catch((e) => e)),
      );
      expect(refusals.map((e) => [e instanceof ConfigError, e.variable])).toEqual([
        [true, 'PECTRACK_MAIL_CA'],
        [true, 'PECTRACK_MAIL_CA'],
        [true, 'PECTRACK_MAIL_CA'],
      ]);
      expect(refusals.map((e) => e.message)).toEqual([
        expect.stringMatching(/broken\.pem, whose certificate 1 cannot be read/),
        expect.stringMatching(/empty\.pem, which holds no PEM certificate/),
        expect.stringMatching(/missing\.pem, which cannot be read: ENOENT/),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['PECTRACK_PORT', 'eighty'],
    ['PECTRACK_PORT', '70000'],
    ['PECTRACK_LOG_LEVEL', 'chatty'],
    ['PECTRACK_DATABASE_URL', 'mysql://db/pectrack'],
    ['PECTRACK_TENANT', 'Comune di Roma'],
    ['PECTRACK_PARSE_WORKERS', 'many'],
    ['PECTRACK_PARSE_WORKERS', '-1'],
    ['PECTRACK_BLOB_SYNC', 'never'],
    ['PECTRACK_RECEIPT_TTL_HOURS', 'forever'],
    ['PECTRACK_RECEIPT_TTL_HOURS', '0'],
    ['PECTRACK_RECEIPT_TTL_HOURS', '9999'],
    ['PECTRACK_UPLOAD_MAX_MB', '0'],
    ['PECTRACK_UPLOAD_MAX_MB', 'lots'],
  ])('refuses %s=%s with an error naming the variable', (variable, value) => {
    const error = (() => {
      try {
        loadConfig({ [variable]: value });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${variable} is invalid`));
  });
});
