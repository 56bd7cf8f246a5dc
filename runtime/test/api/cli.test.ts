/**
 * The `pectrack` command as users run it: the bin shim in a child process
 * (through tsx and the package's development export), against a temporary
 * data directory.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ormAccounts } from '../../src/auth/accounts.js';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { loadConfig } from '../../src/config.js';
import { unparseableFacts } from '../../src/intake/facts.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { recordBatch } from '../../src/intake/record.js';
import { createRuntime } from '../../src/runtime.js';
import { knexOf, openOrm } from '../../src/store/orm.js';
import { pecFixtures } from '../intake/support/fixtures.js';
import { runPectrack, spawnPectrack } from './support/cli.js';

const dataDir = mkdtempSync(join(tmpdir(), 'pectrack-cli-'));

const pectrack = (args: string[], env: Record<string, string> = {}) =>
  runPectrack(dataDir, args, env);

// Each command is a fresh Node process loading TypeScript through tsx: seconds each on a busy machine.
describe('pectrack CLI', { timeout: 180_000 }, () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('adds a user, creates a token printed once, lists and revokes it, changes the password', async () => {
    const added = await pectrack([
      'user',
      'add',
      '--username',
      'alice',
      '--password',
      'segreto1',
      '--role',
      'admin',
      '--role',
      'clerk',
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout.trim()).toBe('user default/alice added with roles admin, clerk');
    const twice = await pectrack([
      'user',
      'add',
      '--username',
      'alice',
      '--password',
      'segreto1',
      '--role',
      'admin',
    ]);
    expect(twice.code).toBe(1);
    expect(twice.stderr.trim()).toBe('pectrack: user default/alice already exists');

    const created = await pectrack([
      'token',
      'create',
      '--username',
      'alice',
      '--name',
      'protocol scanner',
    ]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^pct_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('shown only now');

    const orm = await openOrm({ kind: 'sqlite', file: join(dataDir, 'pectrack.sqlite') });
    try {
      const authenticate = createAuthenticator(ormAccounts(orm, 'default'));
      const expected = { tenantId: 'default', username: 'alice', roles: ['admin', 'clerk'] };
      expect(await authenticate(`Bearer ${token}`)).toMatchObject(expected);
      const basic = `Basic ${Buffer.from('alice:segreto1').toString('base64')}`;
      expect(await authenticate(basic)).toMatchObject(expected);
    } finally {
      await orm.close();
    }

    const listed = await pectrack(['token', 'list', '--username', 'alice']);
    expect(listed.code).toBe(0);
    const [id, name, , state] = listed.stdout.trim().split('\t');
    expect([name, state]).toEqual(['protocol scanner', 'active']);
    expect(created.stderr).toContain(`token ${id} created`);
    expect(listed.stdout).not.toContain(token);

    const revoked = await pectrack(['token', 'revoke', '--id', id!]);
    expect(revoked.stdout.trim()).toBe(`token ${id} revoked`);
    const changed = await pectrack([
      'user',
      'passwd',
      '--username',
      'alice',
      '--password',
      'nuova-pw',
    ]);
    expect(changed.stdout.trim()).toBe('password of default/alice changed');

    const after = await openOrm({ kind: 'sqlite', file: join(dataDir, 'pectrack.sqlite') });
    try {
      const authenticate = createAuthenticator(ormAccounts(after, 'default'));
      await expect(authenticate(`Bearer ${token}`)).rejects.toMatchObject({ status: 401 });
      const oldPassword = `Basic ${Buffer.from('alice:segreto1').toString('base64')}`;
      await expect(authenticate(oldPassword)).rejects.toMatchObject({ status: 401 });
      const newPassword = `Basic ${Buffer.from('alice:nuova-pw').toString('base64')}`;
      expect(await authenticate(newPassword)).toMatchObject({ username: 'alice' });
    } finally {
      await after.close();
    }
  });

  it('adds a user to another tenant, addressed as tenant/username', async () => {
    const added = await pectrack([
      'user',
      'add',
      '--username',
      'bruno',
      '--password',
      'pw-bruno',
      '--role',
      'supervisor',
      '--tenant',
      'comune-b',
    ]);
    expect(added.code).toBe(0);
    const created = await pectrack([
      'token',
      'create',
      '--username',
      'comune-b/bruno',
      '--name',
      'x',
    ]);
    expect(created.code).toBe(0);
    const missing = await pectrack(['token', 'create', '--username', 'bruno', '--name', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('pectrack: user default/bruno does not exist');
  });

  it('refuses bad input with one line naming the problem', async () => {
    const role = await pectrack([
      'user',
      'add',
      '--username',
      'carlo',
      '--password',
      'pw-carlo',
      '--role',
      'boss',
    ]);
    expect(role.code).toBe(1);
    expect(role.stderr.trim()).toBe(
      'pectrack: roles must be some of admin, analyst, clerk, supervisor; got boss',
    );
    const config = await pectrack(['migrate'], { PECTRACK_PORT: 'eighty' });
    expect(config.code).toBe(1);
    expect(config.stderr).toContain('pectrack: PECTRACK_PORT is invalid');
    const missing = await pectrack(['user', 'add', '--username', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("required option '--password <password>' not specified");
  });

  it('sweeps the temporary files an interrupted write left in the blob store', async () => {
    const blobs = join(dataDir, 'blobs');
    const stale = join(blobs, 'tmp', 'interrotto');
    mkdirSync(join(blobs, 'tmp'), { recursive: true });
    writeFileSync(stale, Buffer.alloc(1234));
    writeFileSync(join(blobs, 'tmp', 'in-corso'), Buffer.alloc(10));
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    const swept = await pectrack(['blobs', 'sweep']);
    expect(swept.code).toBe(0);
    expect(swept.stdout.trim()).toBe(
      `removed 1 temporary file(s), 1234 bytes, older than 60 minute(s) from ${blobs}`,
    );
    expect(readdirSync(join(blobs, 'tmp'))).toEqual(['in-corso']);
    // A deleted upload's bytes: a blob no row refers to, gone only with --unreferenced.
    const orphan = Buffer.from('allegato di un caricamento eliminato');
    const sha256 = createHash('sha256').update(orphan).digest('hex');
    const orphanPath = join(blobs, sha256.slice(0, 2), sha256);
    mkdirSync(dirname(orphanPath), { recursive: true });
    writeFileSync(orphanPath, orphan);
    utimesSync(orphanPath, twoHoursAgo, twoHoursAgo);
    expect((await pectrack(['blobs', 'sweep'])).code).toBe(0);
    expect(readdirSync(dirname(orphanPath))).toContain(sha256);
    const unreferenced = await pectrack(['blobs', 'sweep', '--unreferenced']);
    expect(unreferenced.code).toBe(0);
    expect(unreferenced.stdout.trim().split('\n').at(-1)).toBe(
      `removed 1 unreferenced blob(s), ${orphan.length} bytes, older than 60 minute(s) from ${blobs}`,
    );
    expect(readdirSync(dirname(orphanPath))).not.toContain(sha256);
    const bad = await pectrack(['blobs', 'sweep', '--older-than', 'un-giorno']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('a number of minutes (0 or more) is expected');
  });

  it('reads the unparseable messages again, opening the case of a PEC now read', async () => {
    const fixtures = pecFixtures();
    const anchors = join(dataDir, 'ca.pem');
    writeFileSync(anchors, fixtures.ca.certificatePem);
    const env = { PECTRACK_TRUST_ANCHORS: anchors };
    // A PEC the parse worker died on at intake: kept, read as nothing, no case.
    const runtime = await createRuntime(
      loadConfig({ ...process.env, PECTRACK_DATA_DIR: dataDir, ...env }),
    );
    const { raw, providerId } = fixtures.envelope(7, ['protocollo@comune.pec.test']);
    let id: string;
    try {
      const mailbox = await mailboxServices(runtime.intake.ctx).create('default', {
        name: 'Protocollo',
        address: 'protocollo@comune.pec.test',
        imap: { host: '127.0.0.1', port: 143, tls: false, allowPlaintext: true },
        username: 'protocollo',
        password: 'segreto',
      });
      const stored = await runtime.intake.ctx.blobs.put(raw);
      await runtime.intake.ctx.blobs.flush();
      const facts = unparseableFacts(stored.sha256, 'parse worker exited with code 1');
      const position = { mailboxId: mailbox.id, folder: 'INBOX', uidValidity: '1', lastUid: 1 };
      await recordBatch(
        runtime.orm,
        'default',
        position,
        [{ uid: 1, ...stored, facts, event: null }],
        new Date(),
      );
      [{ id }] = await runtime.intake.messages.list('default', { kind: 'unparseable' });
    } finally {
      await runtime.stop();
    }

    const run = await pectrack(['messages', 'reparse', '--kind', 'unparseable'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      `${id}: unparseable -> posta-certificata, signature null -> valid, case opened`,
      'read again 1 message(s): 1 changed, 1 case(s) opened, 0 receipt(s) applied',
    ]);
    const orm = await openOrm({ kind: 'sqlite', file: join(dataDir, 'pectrack.sqlite') });
    try {
      const knex = knexOf(orm);
      expect(await knex('message').where({ id }).first()).toMatchObject({
        provider_id: providerId,
      });
      expect(await knex('outbox').where({ kind: 'intake' }).count({ n: '*' }).first()).toEqual({
        n: 1,
      });
    } finally {
      await orm.close();
    }
    const none = await pectrack(['messages', 'reparse', '--kind', 'unparseable'], env);
    expect(none.stdout.trim()).toBe(
      'read again 0 message(s): 0 changed, 0 case(s) opened, 0 receipt(s) applied',
    );
    // Its bytes lost from the blob store: said, counted, and the exit code tells a script.
    const blobsDir = join(dataDir, 'blobs');
    for (const fanOut of readdirSync(blobsDir).filter((name) => /^[0-9a-f]{2}$/.test(name)))
      rmSync(join(blobsDir, fanOut), { recursive: true, force: true });
    const lost = await pectrack(['messages', 'reparse', '--kind', 'posta-certificata'], env);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(`pectrack: message ${id} cannot be read again`);
    expect(lost.stdout.trim()).toBe(
      'read again 1 message(s): 0 changed, 0 case(s) opened, 0 receipt(s) applied, 1 could not be read (said above)',
    );
    const bad = await pectrack(['messages', 'reparse', '--signature-status', 'forse']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('forse');
    // A script's unset variable: not every message, but a refusal naming the option.
    for (const option of ['--kind', '--mailbox']) {
      const empty = await pectrack(['messages', 'reparse', option, ''], env);
      expect([empty.code, empty.stdout]).toEqual([1, '']);
      expect(empty.stderr).toMatch(new RegExp(`option '${option} <\\w+>' argument '' is invalid`));
    }
  });

  it('serves the API until SIGTERM', async () => {
    const child = spawnPectrack(dataDir, ['serve'], {
      PECTRACK_PORT: '0',
      PECTRACK_LOG_LEVEL: 'info',
    });
    let err = '';
    child.stderr!.on('data', (chunk) => (err += chunk));
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.includes('pectrack listening'));
        if (line) resolve((JSON.parse(line) as { port: number }).port);
      });
      child.on('close', (code) => reject(new Error(`serve exited with ${code}: ${out} ${err}`)));
    });
    const health = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await health.json()).toEqual({ status: 'ready' });
    const anonymous = await fetch(`http://127.0.0.1:${port}/api/v1/tasks`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
