/**
 * The test provider's TLS: server certificates from the test CA, STARTTLS on the SMTP front and
 * on Dovecot, so that a client's "requires STARTTLS and verifies the certificate" can be tested.
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions } from 'node:tls';
import * as asn1js from 'asn1js';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dovecotUnavailableReason,
  startDovecot,
  startSmtpFront,
  type DovecotServer,
  type SmtpFrontOptions,
  type TlsServerIdentity,
} from '../src/testkit/index.js';
import { testWorld } from './fixtures.js';

const dovecotMissing = dovecotUnavailableReason();
if (dovecotMissing) {
  if (process.env.CI === 'true' || process.env.PECTRACK_REQUIRE_SERVICES === '1')
    throw new Error(`${dovecotMissing}; CI=true or PECTRACK_REQUIRE_SERVICES=1 requires Dovecot`);
  console.warn(
    `\n!!! SKIPPING the STARTTLS suites: ${dovecotMissing}. Install dovecot-imapd to run them.\n`,
  );
}

let world: ReturnType<typeof testWorld>;
let identity: TlsServerIdentity;
beforeAll(() => {
  world = testWorld();
  identity = world.ca.issueServer({ hosts: ['127.0.0.1', 'localhost'] });
});

/** The outcome of one TLS handshake against a node:tls server holding `served`. */
async function handshake(
  served: TlsServerIdentity,
  client: ConnectionOptions,
): Promise<{ authorized: boolean } | { code: string }> {
  const server = createServer({ key: served.privateKeyPem, cert: served.certificatePem }, (s) =>
    s.end(),
  );
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ...client }, () => {
        resolve({ authorized: socket.authorized });
        socket.destroy();
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve({ code: String(error.code) }));
    });
  } finally {
    server.close();
  }
}

describe('TestCa.issueServer', () => {
  it('names every host in subjectAltName and is for TLS servers only', () => {
    const certificate = new X509Certificate(identity.certificate);
    expect(certificate.subject).toBe('CN=127.0.0.1');
    expect(certificate.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    // X509Certificate.keyUsage lists the extended key usages.
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const extensions = new Map(
      (pkijs.Certificate.fromBER(identity.certificate).extensions ?? []).map((e) => [e.extnID, e]),
    );
    const basicConstraints = extensions.get('2.5.29.19');
    expect(basicConstraints?.critical).toBe(true);
    expect((basicConstraints?.parsedValue as pkijs.BasicConstraints).cA).toBe(false);
    // keyUsage, critical: digitalSignature (0x80) + keyEncipherment (0x20).
    const keyUsage = extensions.get('2.5.29.15');
    expect(keyUsage?.critical).toBe(true);
    expect([...(keyUsage?.parsedValue as asn1js.BitString).valueBlock.valueHexView]).toEqual([
      0xa0,
    ]);
    expect(certificate.checkIssued(new X509Certificate(world.ca.certificate))).toBe(true);
  });

  it('is trusted by node:tls through the test CA, by IP and by name', async () => {
    const ca = [world.ca.certificatePem];
    expect(await handshake(identity, { ca })).toEqual({ authorized: true });
    expect(await handshake(identity, { ca, servername: 'localhost' })).toEqual({
      authorized: true,
    });
  });

  it('is refused by a client that does not trust the test CA', async () => {
    expect(await handshake(identity, {})).toEqual({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('is refused for a host it was not issued for', async () => {
    const nameOnly = world.ca.issueServer({ hosts: ['localhost'] });
    expect(await handshake(nameOnly, { ca: [world.ca.certificatePem] })).toEqual({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });
});

const SENDER = 'mario.rossi@pec.mittente.test';
const RECIPIENT = 'protocollo@pec.mittente.test';
const PASSWORD = 'segreto';

describe.skipIf(Boolean(dovecotMissing))('STARTTLS on the test provider', () => {
  let tlsDovecot: DovecotServer;
  let plainDovecot: DovecotServer;
  const users = [
    { user: SENDER, password: PASSWORD },
    { user: RECIPIENT, password: PASSWORD },
  ];

  beforeAll(async () => {
    // One after the other: afterAll must find every server that did start, to stop it.
    tlsDovecot = await startDovecot({ users, tls: tlsFiles() });
    plainDovecot = await startDovecot({ users });
  });
  afterAll(async () => {
    await Promise.all([tlsDovecot?.close(), plainDovecot?.close()]);
  });

  const tlsFiles = () => ({ key: identity.privateKeyPem, cert: identity.certificatePem });
  const imap = (dovecot: DovecotServer, options: { ca?: string[] } = {}) =>
    new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      doSTARTTLS: true,
      ...(options.ca && { tls: { ca: options.ca } }),
      auth: { user: SENDER, pass: PASSWORD },
      logger: false,
    });

  /** Sends one message through a fresh SMTP front; returns its plaintext login count. */
  const submit = async (
    front: Partial<SmtpFrontOptions>,
    transport: Record<string, unknown>,
  ): Promise<number> => {
    const smtp = await startSmtpFront({
      provider: world.sender,
      imap: { host: tlsDovecot.host, port: tlsDovecot.port },
      mailboxes: { [SENDER]: PASSWORD, [RECIPIENT]: PASSWORD },
      ...front,
    });
    try {
      const mailer = nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: false,
        auth: { user: SENDER, pass: PASSWORD },
        ...transport,
      });
      await mailer.sendMail({ from: SENDER, to: RECIPIENT, subject: 'Prova', text: 'Ciao' });
      await smtp.settled();
      expect(smtp.failures).toEqual([]);
      expect(smtp.processed[0]?.deliveries).toContain(`accettazione → ${SENDER}`);
      return smtp.plaintextLogins;
    } finally {
      await smtp.close();
    }
  };
  const starttls = () => ({ starttls: tlsFiles() });

  it('SMTP front: a client requiring STARTTLS submits with its password never in clear', async () => {
    const plaintextLogins = await submit(starttls(), {
      requireTLS: true,
      tls: { ca: [world.ca.certificatePem] },
    });
    expect(plaintextLogins).toBe(0);
  });

  it('SMTP front: a client ignoring STARTTLS is counted as a plaintext login', async () => {
    expect(await submit(starttls(), { ignoreTLS: true })).toBe(1);
  });

  it('SMTP front: without starttls no STARTTLS is offered', async () => {
    await expect(submit({}, { requireTLS: true })).rejects.toThrow(/STARTTLS/);
  });

  it('Dovecot with tls: imapflow requiring STARTTLS verifies the test CA and logs in', async () => {
    const client = imap(tlsDovecot, { ca: [world.ca.certificatePem] });
    await client.connect();
    try {
      expect(client.secureConnection).toBe(true);
      expect((await client.list()).map((folder) => folder.path)).toContain('INBOX');
    } finally {
      await client.logout();
    }
  });

  it('Dovecot with tls: a client not trusting the test CA fails the upgrade', async () => {
    await expect(imap(tlsDovecot).connect()).rejects.toMatchObject({
      tlsFailed: true,
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('Dovecot with tls: a second one starts beside it (no fixed imaps port)', async () => {
    const second = await startDovecot({ users, tls: tlsFiles() });
    await second.close();
  });

  it('Dovecot without tls: a client requiring STARTTLS fails', async () => {
    await expect(
      imap(plainDovecot, { ca: [world.ca.certificatePem] }).connect(),
    ).rejects.toMatchObject({
      tlsFailed: true,
      message: 'Server does not support STARTTLS',
    });
  });
});
