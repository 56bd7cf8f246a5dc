/**
 * The order of GET /api/v1/messages, on SQLite and PostgreSQL, with rows stored directly:
 * newest first; among messages of the same instant, the received ones by UID, newest first,
 * then the sent ones (which have no UID), then by id. The two databases sort a NULL at
 * opposite ends, so the same data listed differently on each until the order said where.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageSchema, type MessageDirection } from '../../src/store/entities/message.js';
import { TenantSchema } from '../../src/store/entities/tenant.js';
import { tenantFork } from '../../src/store/orm.js';
import { call } from './support/http.js';
import {
  basic,
  DATABASES,
  startApiServer,
  TENANT,
  USERS,
  type ApiServer,
} from './support/server.js';

const ADMIN = basic(USERS.admin);
const AT = new Date('2026-03-02T09:30:00Z');
const SECOND = 1000;

interface Row {
  id: string;
  direction: MessageDirection;
  uid: number | null;
  receivedAt: Date;
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Stored in an order that matches none of the list's, so the list sorts them itself. */
const ROWS: Row[] = [
  { id: id(4), direction: 'out', uid: null, receivedAt: AT },
  { id: id(1), direction: 'in', uid: 7, receivedAt: AT },
  { id: id(6), direction: 'in', uid: 3, receivedAt: new Date(AT.getTime() - SECOND) },
  { id: id(3), direction: 'out', uid: null, receivedAt: AT },
  { id: id(2), direction: 'in', uid: 9, receivedAt: AT },
  { id: id(5), direction: 'out', uid: null, receivedAt: new Date(AT.getTime() + SECOND) },
];

/** Newest first; at one instant received by UID (newest first), then sent, then by id. */
const LISTED = [
  { id: id(5), direction: 'out', uid: null },
  { id: id(2), direction: 'in', uid: 9 },
  { id: id(1), direction: 'in', uid: 7 },
  { id: id(3), direction: 'out', uid: null },
  { id: id(4), direction: 'out', uid: null },
  { id: id(6), direction: 'in', uid: 3 },
];

describe.each(DATABASES)('the messages list order on $kind', (database) => {
  let server: ApiServer;
  let api: string;

  beforeAll(async () => {
    server = await startApiServer(database);
    api = `${server.url}/api/v1`;
    const em = tenantFork(server.orm, TENANT);
    for (const row of ROWS) {
      em.create(MessageSchema, {
        ...row,
        tenant: em.getReference(TenantSchema, TENANT),
        mailboxId: 'protocollo',
        folder: row.direction === 'in' ? 'INBOX' : null,
        dedupeKey: `order:${row.id}`,
        kind: row.direction === 'in' ? 'posta-certificata' : 'sent',
        providerId: null,
        messageId: `<${row.id}@comune.pec.test>`,
        originalMessageId: null,
        subject: 'Istanza',
        sender: 'cittadino@mittente.pec.test',
        recipients: ['protocollo@comune.pec.test'],
        sha256: 'a'.repeat(64),
        size: 1,
        signatureStatus: null,
        summary: {},
        problems: [],
        deliveryStatus: row.direction === 'out' ? 'submitted' : null,
      });
    }
    await em.flush();
  });
  afterAll(async () => server?.close());

  it('lists received and sent messages of the same instant in the same order as the other database', async () => {
    const reply = await call(api, '/messages', { auth: ADMIN });
    expect(reply.status).toBe(200);
    expect(
      reply.body.map((m: { id: string; direction: string; uid: number | null }) => ({
        id: m.id,
        direction: m.direction,
        uid: m.uid,
      })),
    ).toEqual(LISTED);
  });

  it('pages through that order without skipping or repeating a message', async () => {
    const pages = [];
    for (let offset = 0; offset < LISTED.length; offset += 2) {
      const reply = await call(api, `/messages?limit=2&offset=${offset}`, { auth: ADMIN });
      pages.push(...reply.body.map((m: { id: string }) => m.id));
    }
    expect(pages).toEqual(LISTED.map((m) => m.id));
  });
});
