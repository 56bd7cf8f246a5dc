/**
 * A mailbox's password crosses the network only encrypted: without implicit TLS the IMAP login
 * waits for STARTTLS, against a server whose certificate chains to the system's authorities or
 * to PECTRACK_MAIL_CA; a server that offers no STARTTLS gets no login unless the mailbox
 * allows plain text. Two private Dovecots (one offering STARTTLS with a certificate of a test
 * authority, one plain) and a relay that sees what goes over the wire in clear. The SMTP side
 * is in submission.test.ts (refusal) and pec-connector.test.ts (STARTTLS with the testkit front).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestCa,
  startDovecot,
  startSmtpFront,
  type DovecotServer,
  type SmtpFront,
  type TlsServerIdentity,
} from '@pectrack/connector-pec/testkit';
import { intakeSettingsOf } from '../../src/config.js';
import {
  createIntakeContext,
  runMailboxSession,
  type IntakeContext,
} from '../../src/intake/index.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { outgoingServices } from '../../src/intake/outgoing.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { testDatabases } from '../support/databases.js';
import { countMessages } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { startImapRelay, type ImapRelay } from './support/imap-relay.js';
import { dovecotMissing, PASSWORD, TENANT } from './support/services.js';

const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const fixtures = pecFixtures();
/** An IMAP login or authentication, as a client sends it in clear. */
const CLEAR_LOGIN = /^\S+ (LOGIN|AUTHENTICATE)\b/im;
const SENDER = 'protocollo@comune.pec.test';
const CITIZEN = 'mario.rossi@pec.cittadino.test';

describe.skipIf(Boolean(dovecotMissing))('mail server logins: TLS before the password', () => {
  const authority = createTestCa({ commonName: 'CA interna del Comune' });
  let identity: TlsServerIdentity;
  let secure: DovecotServer;
  let plain: DovecotServer;
  let front: SmtpFront;
  let runtime: Runtime;
  let dir: string;
  let drop: () => Promise<void>;
  const relays: ImapRelay[] = [];
  let next = 0;

  beforeAll(async () => {
    identity = authority.issueServer({ hosts: ['127.0.0.1', 'localhost'] });
    // One after the other: a second that failed to start would leave the first running.
    secure = await startDovecot({
      tls: { key: identity.privateKeyPem, cert: identity.certificatePem },
    });
    plain = await startDovecot();
    front = await startSmtpFront({
      provider: fixtures.provider,
      imap: { host: plain.host, port: plain.port },
      mailboxes: { [SENDER]: PASSWORD, [CITIZEN]: PASSWORD },
      starttls: { key: identity.privateKeyPem, cert: identity.certificatePem },
    });
    for (const user of [SENDER, CITIZEN]) await plain.addUser({ user, password: PASSWORD });
    dir = await mkdtemp(join(tmpdir(), 'pectrack-mail-ca-'));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, authority.certificatePem);
    const created = await sqlite.create();
    drop = created.drop;
    // As an installation sets it: PECTRACK_MAIL_CA read and checked by the runtime's start.
    runtime = await createRuntime({
      ...created.config,
      intake: { ...intakeSettingsOf(created.config), mailCaFile: caFile, parseWorkers: 0 },
    });
  });

  afterAll(async () => {
    await front?.close();
    for (const relay of relays) await relay.close();
    await runtime?.stop();
    await drop?.();
    await Promise.all([secure?.close(), plain?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A Dovecot login and a mailbox reaching it through a relay that watches for a clear login. */
  async function mailboxOn(
    server: DovecotServer,
    options: { allowPlaintext?: boolean } = {},
  ): Promise<{ id: string; address: string; relay: ImapRelay }> {
    const address = `ufficio${++next}@comune.pec.test`;
    await server.addUser({ user: address, password: PASSWORD });
    const relay = await startImapRelay(server, { command: CLEAR_LOGIN, before: async () => {} });
    relays.push(relay);
    const { id } = await mailboxServices(runtime.intake.ctx).create(TENANT, {
      name: address,
      address,
      imap: { host: relay.host, port: relay.port, tls: false, ...options },
      username: address,
      password: PASSWORD,
      enabled: false,
    });
    return { id, address, relay };
  }

  /** The runtime's intake, but trusting only the authorities Node.js ships with. */
  const systemTrustOnly = (): IntakeContext =>
    createIntakeContext({
      orm: runtime.orm,
      blobs: runtime.intake.ctx.blobs,
      secretKey: runtime.intake.ctx.secretKey,
    });

  it('upgrades with STARTTLS to a certificate of PECTRACK_MAIL_CA, and syncs; the login never goes in clear', async () => {
    const { id, address, relay } = await mailboxOn(secure);
    expect(runtime.intake.ctx.mailTrust).toEqual([authority.certificatePem.trim()]);
    const tested = await mailboxServices(runtime.intake.ctx).testConnection(TENANT, id);
    expect(tested).toMatchObject({
      ok: true,
      error: null,
      folders: [{ folder: 'INBOX', exists: true }],
      smtp: null,
    });
    await secure.deliver(address, [fixtures.envelope(1, [address]).raw]);
    await mailboxServices(runtime.intake.ctx).update(TENANT, id, { enabled: true });
    const summary = await runMailboxSession(runtime.intake.ctx, TENANT, id, { once: true });
    expect(summary).toMatchObject({ stoppedBy: 'once', inserted: 1 });
    expect(await countMessages(runtime.orm, { mailbox_id: id })).toBe(1);
    expect(relay.fired).toBe(false);
  });

  it('refuses a certificate no trusted authority issued, naming PECTRACK_MAIL_CA', async () => {
    const { id, relay } = await mailboxOn(secure);
    const tested = await mailboxServices(systemTrustOnly()).testConnection(TENANT, id);
    expect(tested.ok).toBe(false);
    expect(tested.error).toMatch(
      /TLS certificate of 127\.0\.0\.1:\d+ is not trusted.*PECTRACK_MAIL_CA/,
    );
    expect(relay.fired).toBe(false);
  });

  it('gives a server without STARTTLS no login, with a reason naming allowPlaintext, until the mailbox allows plain text', async () => {
    const { id, relay } = await mailboxOn(plain);
    const tested = await mailboxServices(runtime.intake.ctx).testConnection(TENANT, id);
    expect(tested.ok).toBe(false);
    expect(tested.error).toMatch(
      /^127\.0\.0\.1:\d+ offers no STARTTLS, .*set allowPlaintext to true/,
    );
    await mailboxServices(runtime.intake.ctx).update(TENANT, id, { enabled: true });
    await expect(
      runMailboxSession(runtime.intake.ctx, TENANT, id, { once: true }),
    ).rejects.toThrow();
    const health = await mailboxServices(runtime.intake.ctx).health(TENANT, id);
    expect(health).toMatchObject({ status: 'failing', consecutiveFailures: 1 });
    expect(health.lastError).toMatch(/offers no STARTTLS/);
    expect(relay.fired).toBe(false);
    // The body's choice for a server on its own network: then the login goes, in clear.
    await mailboxServices(runtime.intake.ctx).update(TENANT, id, {
      imap: { host: relay.host, port: relay.port, tls: false, allowPlaintext: true },
    });
    const allowed = await mailboxServices(runtime.intake.ctx).testConnection(TENANT, id);
    expect(allowed).toMatchObject({ ok: true, error: null });
    expect(relay.fired).toBe(true);
  });

  it('submits over STARTTLS to a certificate of PECTRACK_MAIL_CA, the password never in clear; refuses one no trusted authority issued', async () => {
    const { id } = await mailboxServices(runtime.intake.ctx).create(TENANT, {
      name: SENDER,
      address: SENDER,
      imap: { host: plain.host, port: plain.port, tls: false, allowPlaintext: true },
      username: SENDER,
      password: PASSWORD,
      enabled: false,
      smtp: { host: front.host, port: front.port, tls: false },
    });
    // The connection test tries the SMTP login too, and says the same.
    const tests = await Promise.all(
      [systemTrustOnly(), runtime.intake.ctx].map((c) =>
        mailboxServices(c).testConnection(TENANT, id),
      ),
    );
    expect(tests.map((t) => t.smtp)).toEqual([
      {
        ok: false,
        error: expect.stringMatching(/TLS certificate of SMTP server .* is not trusted/),
      },
      { ok: true, error: null },
    ]);
    const letter = { to: [CITIZEN], subject: 'Esito istanza', text: 'Si comunica.' };
    const untrusted = await outgoingServices(systemTrustOnly())
      .send(TENANT, id, letter, { idempotencyKey: 'tls:1' })
      .catch((error: Error) => error);
    expect(String(untrusted)).toMatch(
      /TLS certificate of SMTP server 127\.0\.0\.1:\d+ is not trusted.*PECTRACK_MAIL_CA/,
    );
    expect(front.processed).toHaveLength(0);
    // The message recorded by the refused call goes out once the body's authority is trusted.
    const sent = await outgoingServices(runtime.intake.ctx).send(TENANT, id, letter, {
      idempotencyKey: 'tls:1',
    });
    expect(sent).toMatchObject({
      replayed: false,
      recipients: [{ address: CITIZEN, status: 'submitted' }],
    });
    await front.settled();
    expect(front.processed.map((p) => p.submission.subject)).toEqual(['Esito istanza']);
    expect(front.failures).toEqual([]);
    expect(front.plaintextLogins).toBe(0);
  });

  it('names a certificate issued for another host as such, not as an authority to add', async () => {
    const elsewhere = authority.issueServer({ hosts: ['mail.comune.test'] });
    const misnamed = await startSmtpFront({
      provider: fixtures.provider,
      imap: { host: plain.host, port: plain.port },
      mailboxes: { [SENDER]: PASSWORD },
      starttls: { key: elsewhere.privateKeyPem, cert: elsewhere.certificatePem },
    });
    try {
      const { id } = await mailboxServices(runtime.intake.ctx).create(TENANT, {
        name: 'misnamed',
        address: 'misnamed@comune.pec.test',
        imap: { host: plain.host, port: plain.port, tls: false, allowPlaintext: true },
        username: SENDER,
        password: PASSWORD,
        enabled: false,
        smtp: { host: misnamed.host, port: misnamed.port, tls: false },
      });
      const letter = { to: [CITIZEN], subject: 'Esito', text: 'Si comunica.' };
      const error = await outgoingServices(runtime.intake.ctx)
        .send(TENANT, id, letter)
        .catch((e: Error) => e);
      expect(String(error)).toMatch(
        /TLS certificate of SMTP server 127\.0\.0\.1:\d+ is not issued for that name/,
      );
      expect(misnamed.plaintextLogins + misnamed.processed.length).toBe(0);
    } finally {
      await misnamed.close();
    }
  });
});
