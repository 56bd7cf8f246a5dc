/**
 * The PEC intake's REST API (mailboxes, messages, feeds, files) against malformed input, on
 * SQLite and PostgreSQL through the real HTTP app: every malformed request gets a 4xx problem
 * naming what is wrong, never a 500, and stores nothing. Found by review, each failing before
 * its fix.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileBlobStore } from '../../src/store/blobs.js';
import { call, type Reply } from './support/http.js';
import { basic, DATABASES, startApiServer, USERS, type ApiServer } from './support/server.js';
import { closedPort } from '../support/ports.js';

const ADMIN = basic(USERS.admin);

describe.each(DATABASES)('intake API input on $kind', (database) => {
  let server: ApiServer;
  let api: string;
  let mailboxId: string;

  beforeAll(async () => {
    server = await startApiServer(database);
    api = `${server.url}/api/v1`;
    // A mailbox whose provider is down: a send that passes validation is recorded, then fails
    // to submit (502), so a send that should have been refused shows as a recorded message.
    const port = await closedPort();
    const created = await call(api, '/mailboxes', {
      auth: ADMIN,
      json: {
        name: 'Protocollo',
        address: 'protocollo@comune.pec.test',
        imap: { host: '127.0.0.1', port, tls: true },
        username: 'protocollo',
        password: 'segreto',
        smtp: { host: '127.0.0.1', port, tls: true },
        enabled: false,
      },
    });
    expect(created.status).toBe(201);
    mailboxId = created.body.id;
  });
  afterAll(async () => server?.close());

  const get = (path: string) => call(api, path, { auth: ADMIN });
  const post = (path: string, json: unknown, headers: Record<string, string> = {}) =>
    call(api, path, { auth: ADMIN, json, headers });
  const send = (json: unknown) => post(`/mailboxes/${mailboxId}/send`, json);
  const sentCount = async () => (await get('/messages?direction=out&limit=500')).body.length;

  /** A 4xx problem document whose text names `field`. */
  function expectRefusal(reply: Reply, field: string, status = 400) {
    expect(reply.status, `${field}: ${JSON.stringify(reply.body)}`).toBe(status);
    expect(reply.contentType).toContain('application/problem+json');
    expect(JSON.stringify(reply.body)).toContain(field);
  }

  it('a NUL character in an id, a filter or a body field is a 400 naming it, and stores nothing', async () => {
    expectRefusal(await get('/messages/a%00b'), 'path.id');
    expectRefusal(await get('/mailboxes/a%00b'), 'path.id');
    expectRefusal(await get('/files/a%00b'), 'path.id');
    expectRefusal(await get('/messages?sender=a%00b%40comune.pec.test'), 'query.sender');
    expectRefusal(await get('/messages?kind=a%00'), 'query.kind');
    expectRefusal(await post('/messages/reparse', { after: '\u0000' }), 'body.after');

    const before = await sentCount();
    expectRefusal(
      await send({ to: ['ufficio@regione.pec.test'], subject: 'Istanza\u0000', text: 'x' }),
      'body.subject',
    );
    expect(await sentCount()).toBe(before);

    const mailbox = {
      name: 'Archivio',
      address: 'archivio@comune.pec.test',
      imap: { host: '127.0.0.1', port: 993, tls: true },
      username: 'archivio',
      password: 'segreto',
      enabled: false,
    };
    expectRefusal(await post('/mailboxes', { ...mailbox, name: 'Archivio\u0000' }), 'body.name');
    expectRefusal(
      await post('/mailboxes', { ...mailbox, folders: ['IN\u0000BOX'] }),
      'body.folders',
    );
    const listed = await get('/mailboxes');
    expect(listed.body.map((m: { address: string }) => m.address)).not.toContain(
      'archivio@comune.pec.test',
    );
  });

  it('a cursor the other feed gave is refused as invalid-cursor, never read as a position of this one', async () => {
    // One message sent (its submission failed): a row in each feed.
    expect(
      (await send({ to: ['ufficio@regione.pec.test'], subject: 'Nota', text: 'x' })).status,
    ).toBe(502);
    const messages = await get('/messages/feed');
    const deliveries = await get('/messages/delivery-feed');
    expect(messages.body.messages.length).toBeGreaterThan(0);
    expect(deliveries.body.events.length).toBeGreaterThan(0);

    // SQLite read the message's rowid as a delivery step's and skipped the steps up to it;
    // PostgreSQL compared a message id with an integer column and answered 500.
    const crossed = await get(`/messages/delivery-feed?after=${messages.body.cursor}`);
    expectRefusal(crossed, 'after');
    expect(crossed.body.type).toBe('https://pectrack.org/problems/invalid-cursor');
  });

  it('a cursor past any 64-bit position is answered or refused as invalid-cursor, never a 500', async () => {
    const forged = (text: string) => Buffer.from(text).toString('base64url');
    for (const path of [
      `/messages/feed?after=${forged('9999999999999999999:00000000-0000-0000-0000-000000000000')}`,
      `/messages/delivery-feed?after=${forged('9999999999999999999:1')}`,
      `/messages/delivery-feed?after=${forged('1:99999999999')}`,
    ]) {
      const reply = await get(path);
      expect([200, 400], `${path}: ${JSON.stringify(reply.body)}`).toContain(reply.status);
      if (reply.status === 400)
        expect(reply.body.type).toBe('https://pectrack.org/problems/invalid-cursor');
    }
  });

  it("an attachment's contentType that is not a media type is a 400 naming it, as an upload's is, and nothing is recorded or sent", async () => {
    const before = await sentCount();
    const message = {
      to: ['ufficio@regione.pec.test'],
      subject: 'Determina',
      text: 'In allegato.',
    };
    expectRefusal(
      await send({
        ...message,
        attachments: [
          { filename: 'determina.pdf', contentType: 'pdf please', contentBase64: 'JVBERi0xLjQ=' },
        ],
      }),
      'attachments.0.contentType',
    );
    const uploaded = await call(api, '/files?filename=determina.pdf', {
      auth: ADMIN,
      headers: { 'content-type': 'application/pdf' },
      body: '%PDF-1.4',
    });
    expect(uploaded.status).toBe(201);
    expectRefusal(
      await send({
        ...message,
        attachments: [
          { fileId: uploaded.body.id, contentType: 'application/pdf\r\nX-Injected: yes' },
        ],
      }),
      'attachments.0.contentType',
    );
    expect(await sentCount()).toBe(before);
  });

  it('an inline attachment of no bytes is refused as an empty upload is, and nothing is recorded or sent', async () => {
    const before = await sentCount();
    const reply = await send({
      to: ['ufficio@regione.pec.test'],
      subject: 'Determina',
      text: 'In allegato.',
      attachments: [{ filename: 'determina.pdf', contentBase64: '' }],
    });
    expectRefusal(reply, 'attachments.0');
    expect(JSON.stringify(reply.body)).toContain('nothing to attach');
    expect(await sentCount()).toBe(before);
  });

  it('a recipient address longer than SMTP carries (254) is a 400 naming it, and nothing is recorded or sent', async () => {
    // PostgreSQL's varchar(255) refused it (500); SQLite recorded the message and submitted it.
    const before = await sentCount();
    expectRefusal(
      await send({ to: [`${'a'.repeat(250)}@regione.pec.test`], subject: 'Istanza', text: 'x' }),
      'to',
    );
    expect(await sentCount()).toBe(before);
  });

  it('an upload whose media type is longer than its column is refused naming content-type or stored, never a 500', async () => {
    // RFC 6838 allows 127 + 127 characters, and the charset kept beside takes up to 40 more:
    // 305 characters for a varchar(255) column.
    const contentType = `${'a'.repeat(127)}/${'b'.repeat(127)}; charset=${'c'.repeat(40)}`;
    const upload = await call(api, '/files?filename=lungo.bin', {
      auth: ADMIN,
      headers: { 'content-type': contentType },
      body: 'x',
    });
    expect(upload.status, JSON.stringify(upload.body)).not.toBe(500);
    if (upload.status !== 201) expectRefusal(upload, 'content-type');
  });

  it('an upload whose charset is longer than any charset name (40) is a 400 naming the charset, not stored cut to 40', async () => {
    const upload = (charset: string) =>
      call(api, '/files?filename=nota.txt', {
        auth: ADMIN,
        headers: { 'content-type': `text/plain; charset=${charset}` },
        body: 'Si trasmette la nota.',
      });
    const before = (await get('/files?limit=1000')).body.length;
    const tooLong = await upload(`x-${'c'.repeat(39)}`);
    expectRefusal(tooLong, 'content-type');
    expect(JSON.stringify(tooLong.body)).toContain('charset');
    expect((await get('/files?limit=1000')).body.length).toBe(before);

    const named = `x-${'c'.repeat(38)}`;
    const kept = await upload(named);
    expect(kept.status, JSON.stringify(kept.body)).toBe(201);
    expect(kept.body.contentType).toBe(`text/plain; charset=${named}`);
  });

  it('a page number or part index that is not plain decimal digits is a 400 naming it, never read as 0 or a nearby number', async () => {
    // Each was read as a number: a blank one as 0, the others as 5, 16, 100 and 5.
    for (const value of ['', '%205%20', '0x10', '1e2', '5.0']) {
      expectRefusal(await get(`/messages?offset=${value}`), 'query.offset');
      expectRefusal(await get(`/messages?limit=${value}`), 'query.limit');
      expectRefusal(await get(`/messages/feed?limit=${value}`), 'query.limit');
      expectRefusal(await get(`/messages/delivery-feed?limit=${value}`), 'query.limit');
      expectRefusal(await get(`/files?offset=${value}`), 'query.offset');
      // An empty segment is another route (the parts list).
      if (value) expectRefusal(await get(`/messages/unknown/parts/${value}`), 'path.index');
    }
    // Absent, the defaults apply; in bounds, the number is taken.
    expect((await get('/messages')).status).toBe(200);
    expect((await get('/messages/feed')).status).toBe(200);
    const page = await get('/messages?limit=1&offset=0');
    expect(page.status).toBe(200);
    expect(page.body.length).toBeLessThanOrEqual(1);
    expectRefusal(await get('/messages?limit=501'), 'query.limit');
  });

  it('a receivedAfter in year 0000 (an ISO date the filter accepts) is answered or refused naming it, never a 500', async () => {
    // PostgreSQL's timestamptz has no year 0.
    const dated = await get('/messages?receivedAfter=0000-01-01T00:00:00Z');
    expect(dated.status, JSON.stringify(dated.body)).not.toBe(500);
    if (dated.status !== 200) expectRefusal(dated, 'query.receivedAfter');
  });

  it("a file whose bytes are gone from the blob store answers 409 on download and a 4xx naming it on send, as a message's does", async () => {
    const uploaded = await call(api, '/files?filename=verbale.pdf', {
      auth: ADMIN,
      headers: { 'content-type': 'application/pdf' },
      body: '%PDF-1.4 verbale perso',
    });
    expect(uploaded.status).toBe(201);
    const blobs = server.runtime.intake.ctx.blobs as FileBlobStore;
    await rm(blobs.pathOf(uploaded.body.sha256));

    const download = await get(`/files/${uploaded.body.id}/content`);
    expectRefusal(download, uploaded.body.id, 409);

    const before = await sentCount();
    const sent = await send({
      to: ['ufficio@regione.pec.test'],
      subject: 'Verbale',
      text: 'x',
      attachments: [{ fileId: uploaded.body.id }],
    });
    expect(sent.status, JSON.stringify(sent.body)).toBeGreaterThanOrEqual(400);
    expect(sent.status, JSON.stringify(sent.body)).toBeLessThan(500);
    expect(JSON.stringify(sent.body)).toContain('attachments.0.fileId');
    expect(await sentCount()).toBe(before);
  });

  it('a body on an operation that takes none is refused naming its fields, not silently ignored', async () => {
    // README: "a field the endpoint does not know is a 400 problem that names it".
    expectRefusal(
      await post(`/mailboxes/${mailboxId}/test`, { folders: ['Archivio'] }),
      'body.folders',
    );
    const messages = await get('/messages?limit=1');
    expectRefusal(
      await post(`/messages/${messages.body[0]?.id ?? 'x'}/reparse`, { force: true }),
      'body.force',
    );
  });
});
