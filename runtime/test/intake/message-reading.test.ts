/**
 * Reading stored messages over /api/v1/messages, on SQLite and PostgreSQL, with rows stored
 * directly (no Dovecot): the filters and paging of the list, each tenant seeing only its own,
 * an attachment downloaded with the media type and charset it declares, and a message whose
 * bytes are gone from the blob store answered as such.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { MessageSchema } from '../../src/store/entities/message.js';
import { TenantSchema } from '../../src/store/entities/tenant.js';
import { tenantFork } from '../../src/store/orm.js';
import { call } from '../api/support/http.js';
import {
  basic,
  DATABASES,
  PASSWORD,
  startApiServer,
  TENANT,
  USERS,
  type ApiServer,
} from '../api/support/server.js';

const OTHER = 'altro-ente';
const ADMIN = basic(USERS.admin);
const OTHER_ADMIN = basic(`${OTHER}/otto.admin`);

/** A plain message (the sender's own) whose one attachment has `partHeaders`. */
function plainWith(partHeaders: string[], partBody: string): Buffer {
  return Buffer.from(
    [
      'From: cittadino@mittente.pec.test',
      'To: protocollo@comune.pec.test',
      'Subject: Istanza',
      'Message-ID: <istanza-1@mittente.pec.test>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="XX"',
      '',
      '--XX',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Si trasmette.',
      '--XX',
      ...partHeaders,
      '',
      partBody,
      '--XX--',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

const PDF = plainWith(['Content-Type: application/pdf; name="a.pdf"'], '%PDF-1.4');

describe.each(DATABASES)('reading stored messages on $kind', (database) => {
  let server: ApiServer;
  let api: string;

  beforeAll(async () => {
    server = await startApiServer(database);
    api = `${server.url}/api/v1`;
    await addUser(server.orm, {
      tenantId: OTHER,
      username: 'otto.admin',
      password: PASSWORD,
      roles: ['admin'],
    });
  });
  afterAll(async () => server?.close());

  let uid = 0;
  /** Stores `raw` as a received message, as intake would have; its row id. */
  const store = async (
    raw: Buffer,
    options: {
      mailboxId?: string;
      tenantId?: string;
      receivedAt?: Date;
      uid?: number | null;
      bytesLost?: boolean;
    } = {},
  ): Promise<string> => {
    const { blobs } = server.runtime.intake.ctx;
    const stored = options.bytesLost
      ? { sha256: 'b'.repeat(64), size: raw.length }
      : await blobs.put(raw);
    await blobs.flush();
    const tenantId = options.tenantId ?? TENANT;
    const em = tenantFork(server.orm, tenantId);
    const id = randomUUID();
    const n = ++uid;
    em.create(MessageSchema, {
      id,
      tenant: em.getReference(TenantSchema, tenantId),
      direction: 'in',
      mailboxId: options.mailboxId ?? 'mailbox-a',
      folder: 'INBOX',
      uid: options.uid === undefined ? n : options.uid,
      dedupeKey: `in:reading-${n}-${id}`,
      kind: 'plain',
      providerId: null,
      messageId: `<reading-${n}@mittente.pec.test>`,
      originalMessageId: null,
      subject: `Istanza ${n}`,
      sender: 'cittadino@mittente.pec.test',
      recipients: ['protocollo@comune.pec.test'],
      sha256: stored.sha256,
      size: stored.size,
      signatureStatus: 'unsigned',
      summary: {},
      problems: [],
      deliveryStatus: null,
      receivedAt: options.receivedAt ?? new Date(),
    });
    await em.flush();
    return id;
  };

  const download = (id: string, index = 0) =>
    fetch(`${api}/messages/${id}/parts/${index}`, { headers: { authorization: ADMIN } });

  describe('list', () => {
    it('refuses an empty filter value naming the field, instead of answering every message', async () => {
      await store(PDF, { mailboxId: 'mailbox-a' });
      await store(PDF, { mailboxId: 'mailbox-b' });
      for (const field of ['mailboxId', 'kind', 'providerId', 'originalMessageId', 'sender']) {
        const reply = await call(api, `/messages?${field}=`, { auth: ADMIN });
        expect(reply.status, field).toBe(400);
        expect(reply.body, field).toMatchObject({
          type: 'https://pectrack.org/problems/invalid-request',
          problems: [{ path: `query.${field}` }],
        });
      }
    });

    it('pages through messages dated alike (some without a UID) without skipping or repeating one', async () => {
      const at = new Date('2020-01-01T10:00:00.000Z');
      const ids: string[] = [];
      for (let n = 0; n < 7; n++)
        ids.push(
          await store(PDF, { mailboxId: 'mailbox-paging', receivedAt: at, uid: n % 3 ? n : null }),
        );
      const seen: string[] = [];
      for (let offset = 0; offset < 9; offset += 3) {
        const page = await call(
          api,
          `/messages?mailboxId=mailbox-paging&limit=3&offset=${offset}`,
          {
            auth: ADMIN,
          },
        );
        seen.push(...page.body.map((m: { id: string }) => m.id));
      }
      expect([...seen].sort()).toEqual([...ids].sort());
    });

    it("shows one tenant's message to no other (list, one, raw, body, parts, a part, feed)", async () => {
      const id = await store(PDF);
      for (const path of ['', '/raw', '/parts', '/parts/0', '/body'])
        expect(
          (await call(api, `/messages/${id}${path}`, { auth: OTHER_ADMIN })).status,
          path,
        ).toBe(404);
      const listed = await call(api, '/messages?limit=500', { auth: OTHER_ADMIN });
      expect(listed.body.map((m: { id: string }) => m.id)).not.toContain(id);
      const feed = await call(api, '/messages/feed?limit=500', { auth: OTHER_ADMIN });
      expect(feed.body.messages.map((m: { id: string }) => m.id)).not.toContain(id);
    });
  });

  describe('attachments', () => {
    it('downloads a text attachment in ISO-8859-1 declaring exactly that charset, so its accents survive', async () => {
      const id = await store(
        plainWith(
          [
            'Content-Type: text/plain; charset=ISO-8859-1; name="nota.txt"',
            'Content-Disposition: attachment; filename="nota.txt"',
            'Content-Transfer-Encoding: quoted-printable',
          ],
          'Citt=E0 di Roma, quantit=E0 e qualit=E0',
        ),
      );
      const parts = await call(api, `/messages/${id}/parts`, { auth: ADMIN });
      expect(parts.body).toMatchObject([
        { index: 0, filename: 'nota.txt', contentType: 'text/plain', charset: 'iso-8859-1' },
      ]);
      const response = await download(id);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=iso-8859-1');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(new TextDecoder('iso-8859-1').decode(bytes)).toBe('Città di Roma, quantità e qualità');
    });

    it('sends a text attachment that declares no charset without one (not a default of ours)', async () => {
      const id = await store(
        plainWith(['Content-Type: text/csv; name="dati.csv"'], 'comune;abitanti'),
      );
      const parts = await call(api, `/messages/${id}/parts`, { auth: ADMIN });
      expect(parts.body).toMatchObject([{ contentType: 'text/csv', charset: null }]);
      const response = await download(id);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv');
      expect(await response.text()).toBe('comune;abitanti');
    });

    it('sends an attachment whose media type or charset is not a token as octet-stream, or without the charset', async () => {
      const badType = await store(
        plainWith(['Content-Type: application/pdf\x01; name="domanda.pdf"'], '%PDF-1.4'),
      );
      const badCharset = await store(
        plainWith(['Content-Type: text/plain; charset=utf\x01-8; name="nota.txt"'], 'nota'),
      );
      const types = [];
      for (const id of [badType, badCharset]) {
        const response = await download(id);
        types.push([response.status, response.headers.get('content-type')]);
      }
      expect(types).toEqual([
        [200, 'application/octet-stream'],
        [200, 'text/plain'],
      ]);
    });

    it('gives a safe Content-Disposition for a filename with quotes, CR/LF and accents', async () => {
      const id = await store(
        plainWith(
          [
            'Content-Type: application/pdf',
            'Content-Disposition: attachment;',
            ` filename*=UTF-8''a%22b%0D%0ASet-Cookie%3A%20x%3D1%C3%A0.pdf`,
            'Content-Transfer-Encoding: base64',
          ],
          Buffer.from('%PDF').toString('base64'),
        ),
      );
      const response = await download(id);
      expect(response.status).toBe(200);
      expect(response.headers.get('set-cookie')).toBeNull();
      const disposition = response.headers.get('content-disposition') ?? '';
      expect(disposition).toMatch(/^attachment;/);
      expect(disposition).not.toMatch(/[\r\n]/);
    });
  });

  it('answers a message whose bytes are gone from the blob store 409 message-bytes-missing, before any byte', async () => {
    const id = await store(PDF, { bytesLost: true });
    for (const path of ['/raw', '/parts', '/parts/0', '/body']) {
      const reply = await call(api, `/messages/${id}${path}`, { auth: ADMIN });
      expect({ path, status: reply.status, body: reply.body }).toMatchObject({
        path,
        status: 409,
        body: {
          type: 'https://pectrack.org/problems/message-bytes-missing',
          id,
          detail: expect.stringContaining('b'.repeat(64)),
        },
      });
    }
    // The row itself is still there to be seen.
    expect((await call(api, `/messages/${id}`, { auth: ADMIN })).status).toBe(200);
  });
});
