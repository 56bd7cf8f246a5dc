/**
 * PUT /api/v1/mailboxes/{id} and mailbox health, through the real HTTP app with the runtime's
 * scheduler running the mailbox's sync session against a scripted IMAP server that refuses
 * every login (an expired PEC password) and counts the attempts.
 *
 * health.ts: a refused login is not retried until the credentials change, a "sync now" or a
 * connection test that logs in, because retrying an expired password gets the provider account
 * locked. mailboxes.ts already keeps health when an update repeats `enabled` unchanged ("a form
 * that sends every field must not reset health (nor reopen a login the provider refused) on a
 * rename"); the same form repeats the unchanged `imap` and `username` too.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markFolderProblems } from '../../src/intake/health.js';
import { eventually } from '../support/wait.js';
import { call } from './support/http.js';
import { basic, SQLITE, startApiServer, TENANT, USERS, type ApiServer } from './support/server.js';

const ADMIN = basic(USERS.admin);

/** An IMAP server that greets, answers every command OK, and refuses every LOGIN. */
async function refusingImap(): Promise<{ server: Server; port: number; logins: () => number }> {
  let logins = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write('* OK [CAPABILITY IMAP4rev1] ready\r\n');
    let buffer = '';
    socket.on('data', (data) => {
      buffer += data.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const [tag, command = ''] = line.split(' ');
        if (/^(LOGIN|AUTHENTICATE)$/i.test(command)) {
          logins += 1;
          socket.write(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`);
        } else if (/^LOGOUT$/i.test(command)) {
          socket.end(`* BYE\r\n${tag} OK bye\r\n`);
        } else if (/^CAPABILITY$/i.test(command)) {
          socket.write(`* CAPABILITY IMAP4rev1\r\n${tag} OK done\r\n`);
        } else {
          socket.write(`${tag} OK done\r\n`);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  }) as Server['close'];
  return { server, port: (server.address() as AddressInfo).port, logins: () => logins };
}

describe('mailbox health across PUT /mailboxes/{id}', () => {
  let server: ApiServer;
  let api: string;
  let imap: Awaited<ReturnType<typeof refusingImap>>;

  beforeAll(async () => {
    server = await startApiServer(SQLITE);
    api = `${server.url}/api/v1`;
    imap = await refusingImap();
  });
  afterAll(async () => {
    imap?.server.close();
    await server?.close();
  });

  it('a rename that repeats the unchanged imap server and username keeps a refused login refused (not retried)', async () => {
    const created = await call(api, '/mailboxes', {
      auth: ADMIN,
      json: {
        name: 'Tributi',
        address: 'tributi@comune.pec.test',
        imap: { host: '127.0.0.1', port: imap.port, tls: false, allowPlaintext: true },
        username: 'tributi@comune.pec.test',
        password: 'scaduta',
      },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const refused = await eventually(
      'the refused login in health',
      async () => {
        const health = (await call(api, `/mailboxes/${id}/health`, { auth: ADMIN })).body;
        return health.status === 'auth-failed' ? health : null;
      },
      30_000,
    );
    const attempts = imap.logins();
    expect(attempts).toBe(1);

    // The admin form sends every field of the mailbox as GET returned it, the new name among
    // them; the password is never returned, so it is not sent: nothing about the login changed.
    const current = (await call(api, `/mailboxes/${id}`, { auth: ADMIN })).body;
    const renamed = await call(api, `/mailboxes/${id}`, {
      auth: ADMIN,
      method: 'PUT',
      json: {
        name: 'Tributi (ufficio)',
        address: current.address,
        imap: current.imap,
        username: current.username,
        folders: current.folders,
        smtp: current.smtp,
        flagKeyword: current.flagKeyword,
        enabled: current.enabled,
      },
    });
    expect(renamed.status).toBe(200);
    expect
      .soft({
        status: renamed.body.health.status,
        lastError: renamed.body.health.lastError,
        consecutiveFailures: renamed.body.health.consecutiveFailures,
      })
      .toEqual({
        status: 'auth-failed',
        lastError: refused.lastError,
        consecutiveFailures: refused.consecutiveFailures,
      });
    // And the session does not try the refused password again on its own (the provider locks
    // an account after a few refused logins).
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(imap.logins(), 'logins the IMAP server saw').toBe(attempts);
  });

  it('new credentials start health afresh: the folder problems the old login met go with its error', async () => {
    const created = await call(api, '/mailboxes', {
      auth: ADMIN,
      json: {
        name: 'Archivio',
        address: 'archivio@comune.pec.test',
        imap: { host: '127.0.0.1', port: imap.port, tls: false, allowPlaintext: true },
        username: 'archivio@comune.pec.test',
        password: 'segreto',
        folders: ['INBOX', 'Archivio'],
        enabled: false,
      },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    // The mailbox enabled, its last pass could not read "Archivio" on the old account.
    await call(api, `/mailboxes/${id}`, { auth: ADMIN, method: 'PUT', json: { enabled: true } });
    await markFolderProblems(server.runtime.intake.ctx, TENANT, id, [
      { folder: 'Archivio', reason: 'folder "Archivio" does not exist on the server' },
    ]);
    await call(api, `/mailboxes/${id}`, { auth: ADMIN, method: 'PUT', json: { enabled: false } });
    const before = (await call(api, `/mailboxes/${id}/health`, { auth: ADMIN })).body;
    expect(before.folderProblems).toHaveLength(1);

    // Moved to the provider's new server with a new password: the old account's problems are
    // not this one's, exactly as its lastError and failure count are not.
    const moved = await call(api, `/mailboxes/${id}`, {
      auth: ADMIN,
      method: 'PUT',
      json: {
        imap: { host: '127.0.0.1', port: imap.port + 1, tls: true },
        password: 'nuova',
      },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.health).toMatchObject({ lastError: null, consecutiveFailures: 0 });
    expect(moved.body.health.folderProblems).toEqual([]);
  });

  it('never sends the stored password to another server: a new host needs it given again', async () => {
    const created = await call(api, '/mailboxes', {
      auth: ADMIN,
      json: {
        name: 'Ragioneria',
        address: 'ragioneria@comune.pec.test',
        imap: { host: '127.0.0.1', port: imap.port, tls: false, allowPlaintext: true },
        username: 'ragioneria@comune.pec.test',
        password: 'segreto',
        enabled: false,
      },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const put = (json: Record<string, unknown>) =>
      call(api, `/mailboxes/${id}`, { auth: ADMIN, method: 'PUT', json });

    const elsewhere = { host: 'localhost', port: imap.port, tls: false, allowPlaintext: true };
    const imapMoved = await put({ imap: elsewhere });
    expect(imapMoved.status).toBe(400);
    expect(imapMoved.body).toMatchObject({
      type: 'https://pectrack.org/problems/password-required',
      detail: expect.stringContaining('a new IMAP server needs the password given again'),
    });
    const smtpAdded = await put({ smtp: { host: 'smtps.altrove.test', port: 465, tls: true } });
    expect(smtpAdded.status).toBe(400);
    expect(smtpAdded.body.detail).toContain('a new SMTP server');
    // Nothing was changed by the refused updates.
    const unchanged = (await call(api, `/mailboxes/${id}`, { auth: ADMIN })).body;
    expect(unchanged).toMatchObject({ imap: { host: '127.0.0.1' }, smtp: null });

    // Another port of the same server, or the same host in other letters, is not elsewhere.
    expect(
      (await put({ imap: { ...elsewhere, host: '127.0.0.1', port: imap.port + 1 } })).status,
    ).toBe(200);
    // With the password, the move is taken.
    expect((await put({ imap: elsewhere, password: 'segreto' })).status).toBe(200);
    expect((await call(api, `/mailboxes/${id}`, { auth: ADMIN })).body.imap.host).toBe('localhost');
  });
});
