/**
 * The mailboxes and messages API over HTTP, with the mailbox-sync Agenda job running in the
 * runtime's scheduler: create a mailbox → the job ingests its mail → list, read, download.
 */
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePec } from '@pectrack/connector-pec';
import { startSmtpFront, type SmtpFront } from '@pectrack/connector-pec/testkit';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/api/http/logging.js';
import { addUser } from '../../src/auth/users.js';
import { createIntake, type Intake } from '../../src/intake/index.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { closedPort } from '../support/ports.js';
import { eventually } from '../support/wait.js';
import { countMessages } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import {
  dovecotMissing,
  PASSWORD,
  startHarness,
  TENANT,
  type IntakeHarness,
} from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const ADDRESS = 'protocollo@comune.pec.test';
/** What the sixth message attaches: binary, so a decoding slip shows. */
const ATTACHMENT = Buffer.from(Array.from({ length: 70_000 }, (_, n) => (n * 7919) % 256));

describe.skipIf(Boolean(dovecotMissing))('mailboxes and messages API', () => {
  let h: IntakeHarness;
  let intake: Intake;
  let server: Server;
  let base: string;
  const auth = { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` };

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...auth,
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = response.headers.get('content-type') ?? '';
    const payload = type.includes('json')
      ? await response.json()
      : Buffer.from(await response.arrayBuffer());
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of many shapes, checked by the assertions
    return { status: response.status, type, headers: response.headers, body: payload as any };
  };

  beforeAll(async () => {
    h = await startHarness(sqlite, fixtures, { pollMs: 500 });
    await h.dovecot.addUser({ user: ADDRESS, password: PASSWORD });
    await addUser(h.runtime.orm, {
      tenantId: TENANT,
      username: 'admin',
      password: 'admin-password',
      roles: ['admin'],
    });
    await h.runtime.start();
    intake = createIntake(h.ctx, h.runtime.scheduler.agenda, { sessionMs: 60_000 });
    const app = createApp({
      services: h.runtime.services,
      orm: h.runtime.orm,
      defaultTenant: TENANT,
      logger: createLogger('silent'),
      intake,
    });
    server = await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  afterAll(async () => {
    intake?.jobs?.stop();
    server?.close();
    await h?.close();
  });

  let mailboxId: string;
  const created = () => ({
    name: 'Protocollo generale',
    address: ADDRESS,
    imap: { host: h.dovecot.host, port: h.dovecot.port, tls: false, allowPlaintext: true },
    username: ADDRESS,
    password: PASSWORD,
  });

  const RECIPIENT = 'ufficio.tecnico@regione.pec.test';
  const dovecotUsers = new Set<string>();
  /** A mailbox that sends through a testkit provider's SMTP front (to RECIPIENT), not synced. */
  const withSendingMailbox = async (
    sender: string,
    use: (mailbox: { sendPath: string; front: SmtpFront }) => Promise<void>,
  ) => {
    for (const user of [sender, RECIPIENT].filter((u) => !dovecotUsers.has(u))) {
      await h.dovecot.addUser({ user, password: PASSWORD });
      dovecotUsers.add(user);
    }
    const front = await startSmtpFront({
      provider: fixtures.provider,
      imap: { host: h.dovecot.host, port: h.dovecot.port },
      mailboxes: { [sender]: PASSWORD, [RECIPIENT]: PASSWORD },
    });
    try {
      const box = await call('POST', '/mailboxes', {
        ...created(),
        address: sender,
        username: sender,
        enabled: false,
        smtp: { host: front.host, port: front.port, tls: false, allowPlaintext: true },
      });
      await use({ sendPath: `/mailboxes/${box.body.id}/send`, front });
      await call('DELETE', `/mailboxes/${box.body.id}`);
    } finally {
      await front.close();
    }
  };

  it('a connection test logs in to the SMTP server too, sending nothing, and says why a login fails there', async () => {
    await withSendingMailbox('tested@comune.pec.test', async ({ sendPath, front }) => {
      const path = sendPath.replace(/\/send$/, '/test');
      const working = await call('POST', path);
      expect(working.status).toBe(200);
      expect(working.body).toMatchObject({ ok: true, smtp: { ok: true, error: null } });
      await call('PUT', sendPath.replace(/\/send$/, ''), { password: 'sbagliata' });
      const refused = await call('POST', path);
      expect(refused.body).toMatchObject({
        ok: false,
        smtp: {
          ok: false,
          error: expect.stringMatching(/535 5\.7\.8 Authentication credentials invalid/),
        },
      });
      expect(front.processed).toEqual([]);
    });
    const withoutSmtp = await call('POST', '/mailboxes', {
      ...created(),
      address: 'solo-imap@comune.pec.test',
      enabled: false,
    });
    expect((await call('POST', `/mailboxes/${withoutSmtp.body.id}/test`)).body.smtp).toBeNull();
    await call('DELETE', `/mailboxes/${withoutSmtp.body.id}`);
  });

  it('rejects a bad mailbox naming the field and stores nothing', async () => {
    const response = await call('POST', '/mailboxes', {
      ...created(),
      imap: { host: h.dovecot.host, port: 'centoquarantatre', tls: false, allowPlaintext: true },
    });
    expect(response.status).toBe(400);
    expect(response.type).toContain('application/problem+json');
    expect(JSON.stringify(response.body)).toContain('imap.port');
    // Longer than any address SMTP carries (and than the column: PostgreSQL would answer 500).
    const long = await call('POST', '/mailboxes', {
      ...created(),
      address: `${'a'.repeat(250)}@comune.pec.test`,
    });
    expect(long.status).toBe(400);
    expect(JSON.stringify(long.body.problems)).toContain('body.address');
    expect((await call('GET', '/mailboxes')).body).toEqual([]);
  });

  it('creates a mailbox without ever returning its password, and the sync job ingests its mail', async () => {
    await h.append(
      ADDRESS,
      Array.from({ length: 5 }, (_, n) => fixtures.envelope(n, [ADDRESS]).raw),
    );
    const response = await call('POST', '/mailboxes', created());
    expect(response.status).toBe(201);
    expect(JSON.stringify(response.body)).not.toContain(PASSWORD);
    mailboxId = response.body.id;
    await eventually(
      'the sync job to ingest 5 messages',
      async () => (await countMessages(h.runtime.orm, { mailbox_id: mailboxId })) === 5,
      30_000,
    );
    const health = await call('GET', `/mailboxes/${mailboxId}/health`);
    expect(health.body).toMatchObject({
      status: 'ok',
      consecutiveFailures: 0,
      folders: [{ folder: 'INBOX', lastUid: 5 }],
    });
  });

  it('sync now brings new mail in', async () => {
    await h.append(ADDRESS, [fixtures.envelope(5, [ADDRESS], ATTACHMENT).raw]);
    expect((await call('POST', `/mailboxes/${mailboxId}/sync`)).body).toEqual({ scheduled: true });
    await eventually(
      'the sixth message',
      async () => (await countMessages(h.runtime.orm, { mailbox_id: mailboxId })) === 6,
      30_000,
    );
  });

  it('tests the connection: logged in, folder found, IDLE offered', async () => {
    const ok = await call('POST', `/mailboxes/${mailboxId}/test`);
    expect(ok.body).toMatchObject({ ok: true, folders: [{ folder: 'INBOX', exists: true }] });
    expect(ok.body.capabilities).toContain('IDLE');
  });

  it('updates only the fields a change names; the others keep their value', async () => {
    const smtp = { host: '127.0.0.1', port: 2525, tls: false, allowPlaintext: true };
    await call('PUT', `/mailboxes/${mailboxId}`, { smtp, flagKeyword: '$Protocollato' });
    const renamed = await call('PUT', `/mailboxes/${mailboxId}`, { name: 'Protocollo' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      name: 'Protocollo',
      folders: ['INBOX'],
      smtp,
      flagKeyword: '$Protocollato',
      enabled: true,
    });
    const paced = await call('PUT', `/mailboxes/${mailboxId}`, {
      smtp: { ...smtp, maxPerMinute: 6 },
    });
    expect(paced.body.smtp).toEqual({ ...smtp, maxPerMinute: 6 });
    // Moving to the provider's TLS port names the server only: the pace stays until set to null,
    // while the plain-text login, left out, is off (it describes the server, not the provider).
    const moved = await call('PUT', `/mailboxes/${mailboxId}`, {
      smtp: { host: smtp.host, port: 465, tls: true },
    });
    expect(moved.body.smtp).toEqual({
      host: smtp.host,
      port: 465,
      tls: true,
      allowPlaintext: false,
      maxPerMinute: 6,
    });
    const unpaced = await call('PUT', `/mailboxes/${mailboxId}`, {
      smtp: { ...smtp, maxPerMinute: null },
    });
    expect(unpaced.body.smtp).toEqual({ ...smtp, maxPerMinute: null });
    const zero = await call('PUT', `/mailboxes/${mailboxId}`, {
      smtp: { ...smtp, maxPerMinute: 0 },
    });
    expect(zero.status).toBe(400);
    expect(JSON.stringify(zero.body.problems)).toContain('body.smtp.maxPerMinute');
    await call('PUT', `/mailboxes/${mailboxId}`, { smtp: null, flagKeyword: null });
  });

  it('logs in over plain text only where a mailbox allows it, and never beside TLS', async () => {
    const before = await call('GET', `/mailboxes/${mailboxId}`);
    const both = await call('PUT', `/mailboxes/${mailboxId}`, {
      imap: { host: '127.0.0.1', port: 993, tls: true, allowPlaintext: true },
      smtp: { host: '127.0.0.1', port: 465, tls: true, allowPlaintext: true },
    });
    expect(both.status).toBe(400);
    const named = JSON.stringify(both.body.problems);
    expect(named).toContain('body.imap.allowPlaintext');
    expect(named).toContain('body.smtp.allowPlaintext');
    const after = await call('GET', `/mailboxes/${mailboxId}`);
    expect([after.body.imap, after.body.smtp]).toEqual([before.body.imap, before.body.smtp]);
    const created = await call('POST', '/mailboxes', {
      name: 'Senza opzione',
      address: 'senza-opzione@comune.pec.test',
      imap: { host: '127.0.0.1', port: 143, tls: false },
      smtp: { host: '127.0.0.1', port: 587, tls: false },
      username: 'senza-opzione',
      password: 'segreto',
      enabled: false,
    });
    expect(created.status).toBe(201);
    expect(created.body.imap).toEqual({
      host: '127.0.0.1',
      port: 143,
      tls: false,
      allowPlaintext: false,
    });
    expect(created.body.smtp).toMatchObject({ tls: false, allowPlaintext: false });
    await call('DELETE', `/mailboxes/${created.body.id}`);
  });

  it('refuses fields it does not know, naming them, and changes nothing', async () => {
    const typo = await call('PUT', `/mailboxes/${mailboxId}`, { name: 'X', pasword: 'nuova' });
    expect(typo.status).toBe(400);
    expect(typo.body.problems).toEqual([{ path: 'body.pasword', reason: 'unknown field' }]);
    expect((await call('GET', `/mailboxes/${mailboxId}`)).body.name).toBe('Protocollo');
    const query = await call('GET', `/messages?mailbox=${mailboxId}`);
    expect(query.status).toBe(400);
    expect(query.body.problems).toEqual([{ path: 'query.mailbox', reason: 'unknown field' }]);
  });

  it('refuses a second mailbox with the same address, and a folder named twice', async () => {
    const twin = await call('POST', '/mailboxes', { ...created(), address: ADDRESS.toUpperCase() });
    expect(twin.status).toBe(409);
    expect(twin.body).toMatchObject({ field: 'address' });
    expect(twin.body.detail).toContain(ADDRESS);
    const folders = await call('PUT', `/mailboxes/${mailboxId}`, { folders: ['INBOX', 'INBOX'] });
    expect(folders.status).toBe(400);
    expect(JSON.stringify(folders.body.problems)).toContain('body.folders');
    expect((await call('GET', '/mailboxes')).body).toHaveLength(1);
  });

  it('lists, reads, downloads the raw bytes and lists the parts of a message', async () => {
    const list = await call(
      'GET',
      `/messages?mailboxId=${mailboxId}&kind=posta-certificata&limit=10`,
    );
    expect(list.status).toBe(200);
    // Newest first, within one commit's batch too (the first five came in one).
    expect(list.body.map((m: { uid: number }) => m.uid)).toEqual([6, 5, 4, 3, 2, 1]);
    const first = list.body[0];
    const detail = await call('GET', `/messages/${first.id}`);
    expect(detail.body).toMatchObject({
      id: first.id,
      signatureStatus: 'valid',
      summary: { certData: { tipo: 'posta-certificata' } },
    });
    const raw = await call('GET', `/messages/${first.id}/raw`);
    expect(raw.type).toContain('message/rfc822');
    expect(createHash('sha256').update(raw.body).digest('hex')).toBe(first.sha256);
    expect((await call('GET', `/messages/${first.id}/parts`)).status).toBe(200);
    expect((await call('GET', '/messages?deliveryStatus=lost')).status).toBe(400);
    expect((await call('GET', '/messages/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it("reads messages again on an administrator's request, one or a page at a time", async () => {
    const [first] = (await call('GET', `/messages?mailboxId=${mailboxId}&kind=posta-certificata`))
      .body;
    const one = await call('POST', `/messages/${first.id}/reparse`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: first.id,
      changed: false,
      before: { kind: 'posta-certificata', providerId: first.providerId, signatureStatus: 'valid' },
      caseOpened: false,
      duplicateOf: null,
    });
    const page = await call('POST', '/messages/reparse', {
      kind: 'posta-certificata',
      mailboxId,
      limit: 2,
    });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ examined: 2, changed: 0, casesOpened: 0 });
    expect(page.body.next).toBe(page.body.results[1].id);
    const wrong = await call('POST', '/messages/reparse', { limit: 0 });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toContain('limit');
    // An empty mailbox is not "every mailbox": the page would read the whole tenant again.
    const empty = await call('POST', '/messages/reparse', { mailboxId: '', limit: 1 });
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body.problems)).toContain('body.mailboxId');

    await addUser(h.runtime.orm, {
      tenantId: TENANT,
      username: 'impiegato',
      password: 'impiegato-password',
      roles: ['clerk'],
    });
    const clerk = {
      authorization: `Basic ${Buffer.from('impiegato:impiegato-password').toString('base64')}`,
    };
    const refused = await call('POST', `/messages/${first.id}/reparse`, undefined, clerk);
    expect(refused.status).toBe(403);
  });

  it('pages through the feed of every message in the order stored, behind a cursor', async () => {
    const listed = (await call('GET', `/messages?mailboxId=${mailboxId}&limit=500`)).body;
    const first = await call('GET', '/messages/feed?limit=4');
    expect(first.status).toBe(200);
    const rest = await call('GET', `/messages/feed?after=${first.body.cursor}&limit=500`);
    const fed = [...first.body.messages, ...rest.body.messages].map((m: { id: string }) => m.id);
    expect(new Set(fed)).toEqual(new Set(listed.map((m: { id: string }) => m.id)));
    expect(fed).toHaveLength(listed.length);
    const wrong = await call('GET', '/messages/feed?after=x');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ field: 'after' });
  });

  it('serves the delivery feed (nothing sent here) behind the same kind of cursor', async () => {
    const empty = await call('GET', '/messages/delivery-feed');
    expect(empty).toMatchObject({ status: 200, body: { events: [], cursor: null } });
    const wrong = await call('GET', '/messages/delivery-feed?after=x');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ field: 'after' });
    expect((await call('GET', '/messages/delivery-feed?limit=0')).status).toBe(400);
  });

  it("gives the sender's text and each attachment decoded, as the parts list them", async () => {
    const [sixth] = (
      await call(
        'GET',
        `/messages?mailboxId=${mailboxId}&providerId=${fixtures.envelope(5, [ADDRESS], ATTACHMENT).providerId}`,
      )
    ).body;
    const body = await call('GET', `/messages/${sixth.id}/body`);
    expect(body.status).toBe(200);
    expect(body.body).toMatchObject({ subject: 'Istanza numero 5', html: null });
    expect(body.body.text).toContain('Si chiede cortesemente il rilascio del documento 5.');

    const parts = await call('GET', `/messages/${sixth.id}/parts`);
    expect(parts.body).toEqual([
      {
        index: 0,
        filename: 'allegato-5.pdf',
        contentType: 'application/pdf',
        charset: null,
        size: ATTACHMENT.length,
        sha256: createHash('sha256').update(ATTACHMENT).digest('hex'),
      },
    ]);
    const response = await fetch(`${base}/messages/${sixth.id}/parts/0`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="allegato-5.pdf"',
    );
    expect(Buffer.from(await response.arrayBuffer()).equals(ATTACHMENT)).toBe(true);

    const missing = await call('GET', `/messages/${sixth.id}/parts/1`);
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/attachment 1 of message/);
    expect((await call('GET', `/messages/${sixth.id}/parts/first`)).status).toBe(400);
  });

  it('answers a send past the mailbox pace with 429 and Retry-After, after a provider that was down', async () => {
    const box = await call('POST', '/mailboxes', {
      ...created(),
      address: 'ragioneria@comune.pec.test',
      enabled: false,
      smtp: {
        host: '127.0.0.1',
        port: await closedPort(),
        tls: false,
        allowPlaintext: true,
        maxPerMinute: 1,
      },
    });
    const letter = { to: ['ufficio@regione.pec.test'], subject: 'Sollecito', text: '...' };
    const first = await call('POST', `/mailboxes/${box.body.id}/send`, letter);
    expect(first.status).toBe(502);
    expect(first.body).toMatchObject({ transient: true });
    const second = await call('POST', `/mailboxes/${box.body.id}/send`, letter);
    expect(second.status).toBe(429);
    expect(second.body).toMatchObject({
      type: 'https://pectrack.org/problems/sending-paced',
      title: 'Too Many Requests',
      maxPerMinute: 1,
    });
    expect(second.headers.get('retry-after')).toBe(String(h.ctx.limits.pacingRecheckMs / 1000));
    await call('DELETE', `/mailboxes/${box.body.id}`);
  });

  it('certifies a send repeated under its Idempotency-Key once, and refuses another body under the key', async () => {
    await withSendingMailbox('segreteria@comune.pec.test', async ({ sendPath: path, front }) => {
      const letter = { to: [RECIPIENT], subject: 'Risposta pratica 42', text: 'Si comunica...' };
      const certified = async (messageId: string) => {
        await front.settled();
        return front.processed.filter((p) => p.submission.clientMessageId === messageId).length;
      };

      // The structured-field form (quoted) and the bare form are one key.
      const first = await call('POST', path, letter, {
        'idempotency-key': '"pratica-42-risposta"',
      });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const again = await call('POST', path, letter, { 'idempotency-key': 'pratica-42-risposta' });
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await certified(first.body.messageId)).toBe(1);

      const other = await call(
        'POST',
        path,
        { ...letter, subject: 'Altra risposta' },
        {
          'idempotency-key': 'pratica-42-risposta',
        },
      );
      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({
        type: 'https://pectrack.org/problems/idempotency-key-reused',
        messageId: first.body.messageId,
      });
      const spaced = await call('POST', path, letter, { 'idempotency-key': 'due parole' });
      expect(spaced.status).toBe(400);
      expect(spaced.body.problems).toEqual([
        { path: 'header.idempotency-key', reason: expect.stringMatching(/printable ASCII/) },
      ]);
      // Without a key every call is a new message.
      const unkeyed = await call('POST', path, letter);
      expect(unkeyed.status).toBe(201);
      expect(unkeyed.body.id).not.toBe(first.body.id);
      expect(await certified(first.body.messageId)).toBe(1);
    });
  });

  it('takes a file larger than a JSON body, streamed, and sends it as an attachment by id', async () => {
    // 3 MB: three times what a JSON body may carry.
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.7\n'),
      Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, n) => (n * 7919 + 13) % 256)),
    ]);
    const filename = 'Determina n. 12 – proroga è firmata.pdf';
    const upload = await fetch(`${base}/files?filename=${encodeURIComponent(filename)}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/pdf' },
      body: pdf,
    });
    expect(upload.status).toBe(201);
    const file = await upload.json();
    expect(file).toEqual({
      id: expect.any(String),
      sha256: createHash('sha256').update(pdf).digest('hex'),
      size: pdf.length,
      filename,
      contentType: 'application/pdf',
      createdAt: expect.any(String),
      createdBy: 'admin',
    });
    expect((await call('GET', `/files/${file.id}`)).body).toEqual(file);
    const content = await call('GET', `/files/${file.id}/content`);
    expect(content.status).toBe(200);
    expect(content.type).toBe('application/pdf');
    expect(Buffer.compare(content.body, pdf)).toBe(0);
    expect(content.headers.get('content-disposition')).toContain(
      `filename*=UTF-8''${encodeURIComponent(filename)}`,
    );
    expect(content.headers.get('x-content-type-options')).toBe('nosniff');

    await withSendingMailbox('suap@comune.pec.test', async ({ sendPath, front }) => {
      const sent = await call('POST', sendPath, {
        to: [RECIPIENT],
        subject: 'Determina n. 12',
        text: 'Si trasmette la determina firmata.',
        attachments: [{ fileId: file.id }, { filename: 'nota.txt', contentBase64: 'bm90YQ==' }],
      });
      expect(sent.status).toBe(201);
      await front.settled();
      const submitted = front.processed.find(
        (p) => p.submission.clientMessageId === sent.body.messageId,
      )!;
      const envelope = await parsePec(submitted.submission.original);
      expect(envelope.inner?.attachments).toEqual([
        expect.objectContaining({
          filename,
          contentType: 'application/pdf',
          size: pdf.length,
          sha256: file.sha256,
        }),
        expect.objectContaining({ filename: 'nota.txt', size: 4 }),
      ]);

      expect((await call('GET', '/files')).body).toContainEqual(file);
      expect((await call('DELETE', `/files/${file.id}`)).status).toBe(204);
      expect((await call('GET', `/files/${file.id}`)).status).toBe(404);
      const forgotten = await call('POST', sendPath, {
        to: [RECIPIENT],
        subject: 'Determina n. 12 (di nuovo)',
        text: '...',
        attachments: [{ fileId: file.id }],
      });
      expect(forgotten.body).toMatchObject({ field: 'attachments.0.fileId' });
      const unknown = await call('POST', sendPath, {
        to: [RECIPIENT],
        subject: 'Determina n. 13',
        text: '...',
        attachments: [{ fileId: '00000000-0000-4000-8000-000000000000' }],
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({
        type: 'https://pectrack.org/problems/file-not-found',
        field: 'attachments.0.fileId',
      });
    });
  });

  it('refuses an upload past the limit as it streams, a bad media type and an empty file, storing nothing', async () => {
    const small = createApp({
      services: h.runtime.services,
      orm: h.runtime.orm,
      defaultTenant: TENANT,
      logger: createLogger('silent'),
      intake,
      limits: { uploadBytes: 64 * 1024 },
    });
    const smallServer = await small.listen(0, '127.0.0.1');
    const smallBase = `http://127.0.0.1:${(smallServer.address() as AddressInfo).port}/api/v1`;
    const files = async () =>
      Number(
        ((await knexOf(h.runtime.orm)('uploaded_file').count({ n: '*' })) as { n: string }[])[0]!.n,
      );
    try {
      const before = await files();
      const post = (body: BodyInit, headers: Record<string, string> = {}) =>
        fetch(`${smallBase}/files?filename=grande.bin`, {
          method: 'POST',
          headers: { ...auth, ...headers },
          body,
          duplex: 'half',
        } as RequestInit);
      // Declared too large: refused before a byte is read.
      const declared = await post(Buffer.alloc(100 * 1024, 1));
      expect(declared.status).toBe(413);
      // Chunked, no length given: refused once the bytes pass the limit.
      const chunks = new ReadableStream({
        start(controller) {
          for (let n = 0; n < 20; n++) controller.enqueue(new Uint8Array(8 * 1024).fill(n));
          controller.close();
        },
      });
      const streamed = await post(chunks);
      expect(streamed.status).toBe(413);
      expect(await streamed.json()).toMatchObject({ limitBytes: 64 * 1024 });
      const badType = await post(Buffer.from('x'), { 'content-type': 'pdf' });
      expect(badType.status).toBe(400);
      expect(await badType.json()).toMatchObject({ field: 'content-type' });
      const empty = await post(Buffer.alloc(0));
      expect(empty.status).toBe(400);
      expect(await empty.json()).toMatchObject({
        type: 'https://pectrack.org/problems/empty-file',
      });
      expect(await files()).toBe(before);
      // A text file keeps its charset, and nothing else of the header's parameters.
      const text = await post(Buffer.from('Perché no'), {
        'content-type': 'Text/Plain; format=flowed; charset="UTF-8"',
      });
      expect(await text.json()).toMatchObject({ contentType: 'text/plain; charset=utf-8' });
      // Within the limit, without a media type: stored as octet-stream.
      const fits = await post(Buffer.alloc(1024, 7));
      expect(fits.status).toBe(201);
      expect(await fits.json()).toMatchObject({
        size: 1024,
        contentType: 'application/octet-stream',
      });
    } finally {
      smallServer.close();
    }
  });

  it('a client that drops the connection mid-upload leaves no file and no partial blob behind', async () => {
    const uploadedFiles = async () =>
      Number(
        ((await knexOf(h.runtime.orm)('uploaded_file').count({ n: '*' })) as { n: string }[])[0]!.n,
      );
    const before = await uploadedFiles();
    const url = new URL(`${base}/files?filename=interrotto.pdf`);
    await new Promise<void>((resolve) => {
      const request = httpRequest(url, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/pdf', 'content-length': 4 * 1024 * 1024 },
      });
      request.on('error', () => resolve());
      request.on('close', () => resolve());
      request.write(Buffer.alloc(1024 * 1024, 5), () => setTimeout(() => request.destroy(), 200));
    });
    // The server notices, drops what it was writing, and records nothing.
    // Streamed uploads write to tmp/ until complete: nothing may stay there.
    const partial = () => readdir(join(h.blobDir, 'tmp')).catch(() => []);
    await eventually('the aborted upload cleaned up', async () =>
      (await partial()).length === 0 ? true : null,
    );
    expect(await uploadedFiles()).toBe(before);
    expect((await call('GET', '/mailboxes')).status).toBe(200);
  });

  it('deletes the mailbox but keeps its messages', async () => {
    expect((await call('DELETE', `/mailboxes/${mailboxId}`)).status).toBe(204);
    expect((await call('GET', `/mailboxes/${mailboxId}`)).status).toBe(404);
    expect(await countMessages(h.runtime.orm, { mailbox_id: mailboxId })).toBe(6);
  });

  it('a connection test that logs in restarts a mailbox stopped by a refused login', async () => {
    const address = 'tributi@comune.pec.test';
    await h.dovecot.addUser({ user: address, password: PASSWORD });
    await h.append(address, [fixtures.envelope(0, [address]).raw]);
    const box = await call('POST', '/mailboxes', {
      ...created(),
      address,
      username: address,
      password: 'scaduta',
    });
    await eventually(
      'the refused login in health',
      async () =>
        (await call('GET', `/mailboxes/${box.body.id}/health`)).body.status === 'auth-failed',
      30_000,
    );
    // The provider side is fixed (the app password renewed as it was): nothing changes here.
    await h.dovecot.addUser({ user: address, password: 'scaduta' });
    expect((await call('POST', `/mailboxes/${box.body.id}/test`)).body).toMatchObject({ ok: true });
    await eventually(
      'the mailbox to sync again',
      async () => (await countMessages(h.runtime.orm, { mailbox_id: box.body.id })) === 1,
      30_000,
    );
    await call('DELETE', `/mailboxes/${box.body.id}`);
  });

  it('a connection test says what is wrong, and gives up on a server that stops answering', async () => {
    // Greets, then never answers a command: a stuck front end.
    const quiet = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n');
    });
    await new Promise<void>((resolve) => quiet.listen(0, '127.0.0.1', resolve));
    const tested = async (changes: object) => {
      const box = await call('POST', '/mailboxes', { ...created(), enabled: false, ...changes });
      const result = await call('POST', `/mailboxes/${box.body.id}/test`);
      await call('DELETE', `/mailboxes/${box.body.id}`);
      return result.body;
    };
    try {
      const port = (quiet.address() as AddressInfo).port;
      // The bound, shortened here (20 s by default); Dovecot's delays after refused logins
      // would make a short one time out on the other cases too.
      const box = await call('POST', '/mailboxes', {
        ...created(),
        enabled: false,
        imap: { host: '127.0.0.1', port, tls: false, allowPlaintext: true },
      });
      const hurried = mailboxServices({
        ...h.ctx,
        limits: { ...h.ctx.limits, connectionTestMs: 1_000 },
      });
      expect(await hurried.testConnection(TENANT, box.body.id)).toMatchObject({
        ok: false,
        error: `127.0.0.1:${port} did not answer within 1 s`,
      });
      await call('DELETE', `/mailboxes/${box.body.id}`);
      const plain = { host: h.dovecot.host, port: h.dovecot.port };
      const tls = await tested({ imap: { ...plain, tls: true } });
      expect(tls.error).toMatch(/^TLS handshake with .* seems to speak plain text/);
      expect(await tested({ password: 'sbagliata' })).toMatchObject({
        ok: false,
        authenticationFailed: true,
        error: expect.stringMatching(/^the server refused the login of protocollo@/),
      });
    } finally {
      quiet.close();
    }
  });
});
