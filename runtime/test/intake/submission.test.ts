/**
 * Certified submission against a scripted SMTP server (support/scripted-smtp.ts): what the
 * provider answers at MAIL FROM / RCPT TO / after the data, and what the intake records and
 * tells its callers (REST, the pectrack:pec connector): above all, never a retry that could
 * certify a message twice. No Dovecot: nothing is synced back.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '@pectrack/connector-sdk/testing';
import { createPecTransport } from '@pectrack/connector-pec';
import { createApp } from '../../src/api/app.js';
import { createLogger } from '../../src/api/http/logging.js';
import { addUser } from '../../src/auth/users.js';
import { pecConnector } from '../../src/connectors/index.js';
import { createIntake, type IntakeContext } from '../../src/intake/index.js';
import { mailboxServices } from '../../src/intake/mailboxes.js';
import { outgoingServices, type OutgoingServices } from '../../src/intake/outgoing.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { useRuntime } from '../support/runtime.js';
import { useIntakeContext } from './support/context.js';
import {
  scriptedSender,
  startScriptedSmtp,
  withData,
  type ScriptedSmtp,
} from './support/scripted-smtp.js';

const TENANT = 'default';
const SENDER = 'protocollo@comune.pec.test';
const OFFICE = 'ufficio.tecnico@regione.pec.test';
const CITIZEN = 'mario.rossi@pec.cittadino.test';
const LETTER = { to: [OFFICE], subject: 'Risposta istanza', text: 'Si comunica.' };
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe('certified submission (scripted SMTP)', () => {
  const runtime = useRuntime(sqlite);
  const intakeCtx = useIntakeContext(runtime);
  let ctx: IntakeContext;
  let smtp: ScriptedSmtp;
  let outgoing: OutgoingServices;
  let senderId: string;
  let keys = 0;
  const key = () => `submission:${++keys}`;

  beforeAll(async () => {
    ctx = intakeCtx();
    smtp = await startScriptedSmtp();
    senderId = await scriptedSender(ctx, smtp, SENDER);
    outgoing = outgoingServices(ctx);
  });
  afterAll(() => smtp?.close());

  const db = () => knexOf(runtime().orm);
  const statesOf = (id: string) =>
    db()('outgoing_recipient')
      .where({ message_id: id })
      .orderBy('address')
      .select('address', 'status');
  const historyOf = async (id: string) =>
    (
      await db()('message_event')
        .where({ message_id: id })
        .orderBy('id')
        .select('event', 'recipient', 'data')
    ).map((e: { event: string; recipient: string; data: unknown }) => ({
      ...e,
      data: typeof e.data === 'string' ? JSON.parse(e.data) : e.data,
    }));
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the send to fail');
      },
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked by the assertions
      (error: any) => error,
    );

  it('a connection lost after the message data went out is not a failure to retry: the provider may have certified it', async () => {
    smtp.script = { afterData: () => 'drop' };
    const before = withData(smtp.sessions).length;
    const error = await failure(outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: key() }));
    // The whole message reached the provider: it may well have certified it.
    expect(withData(smtp.sessions).length - before).toBe(1);
    expect(error.code).toBe('pec-submission-failed');
    expect(error.details).toMatchObject({ transient: false });
  });

  it('a provider silent after the message data (timeout) is not a failure to retry either', async () => {
    smtp.script = { afterData: () => 'silent' };
    const quick = outgoingServices(ctx, (settings) =>
      createPecTransport({ ...settings, timeoutMs: 1_000 }),
    );
    const before = withData(smtp.sessions).length;
    const error = await failure(quick.send(TENANT, senderId, LETTER, { idempotencyKey: key() }));
    expect(withData(smtp.sessions).length - before).toBe(1);
    expect(error.details).toMatchObject({ transient: false });
  });

  it('a send stopped by a busy database before anything reached the provider says so, and a send task retries it: sent once', async () => {
    // Another writer holds the SQLite file past the busy timeout while the send records its
    // message. Nothing went to the provider, so a retry is safe; it used to surface as the
    // database's own error, and a send task took it for final (an incident a person retries).
    smtp.script = {};
    const file = (runtime().config.database as { file: string }).file;
    const connector = pecConnector(createIntake(ctx, null));
    const call = {
      idempotencyKey: 'service-task:submission:busy:1',
      tenantId: TENANT,
      instanceId: 'i',
      elementId: 'send',
      attempt: 1,
    };
    const input = { to: OFFICE, subject: 'Convocazione', text: 'Si convoca.' };
    const before = withData(smtp.sessions).length;
    const writer = new Database(file);
    let refusals: unknown[];
    try {
      writer.exec('BEGIN IMMEDIATE');
      refusals = [
        await failure(outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: key() })),
        await failure(
          runAction(connector, 'send', { config: { mailboxId: senderId }, input, call }),
        ),
      ];
    } finally {
      writer.close();
    }
    const sent = await runAction(connector, 'send', {
      config: { mailboxId: senderId },
      input,
      call: { ...call, attempt: 2 },
    });
    expect({
      refusals,
      submitted: withData(smtp.sessions).length - before,
      sent: typeof sent.messageId,
    }).toEqual({
      refusals: [
        expect.objectContaining({
          code: 'pec-send-not-started',
          status: 503,
          details: { transient: true },
        }),
        expect.objectContaining({ code: 'PEC_SUBMISSION_DEFERRED', retryable: true }),
      ],
      submitted: 1,
      sent: 'string',
    });
  });

  it('a send task whose answer was lost after the data is not retried: one certified notification, not two', async () => {
    const connector = pecConnector(createIntake(ctx, null));
    const call = {
      idempotencyKey: 'service-task:submission:send:1',
      tenantId: TENANT,
      instanceId: 'i',
      elementId: 'send',
      attempt: 1,
    };
    const input = { to: OFFICE, subject: 'Notifica provvedimento', text: 'Si notifica.' };
    const before = withData(smtp.sessions).length;
    smtp.script = { afterData: () => 'drop' };
    const first = await failure(
      runAction(connector, 'send', { config: { mailboxId: senderId }, input, call }),
    );
    smtp.script = {};
    // What the scheduler does with a retryable connector error: it runs the job again.
    if (first.retryable === true)
      await runAction(connector, 'send', {
        config: { mailboxId: senderId },
        input,
        call: { ...call, attempt: 2 },
      });
    const messageIds = withData(smtp.sessions)
      .slice(before)
      .map((s) => /^Message-ID: (.*)$/im.exec(s.data!.toString('latin1'))?.[1]);
    // A final failure (a person decides), and one certified notification, not two.
    expect({ retryable: first.retryable, submittedMessageIds: messageIds }).toEqual({
      retryable: false,
      submittedMessageIds: [messageIds[0]],
    });
  });

  it("one recipient refused (550) among several is failed with the provider's reply in its history, the others sent", async () => {
    smtp.script = {
      rcpt: (a) =>
        a === CITIZEN
          ? '550 5.1.1 <mario.rossi@pec.cittadino.test>: casella inesistente'
          : '250 2.1.5 Ok',
    };
    const sent = await outgoing.send(TENANT, senderId, { ...LETTER, to: [OFFICE, CITIZEN] });
    expect(await statesOf(sent.id)).toEqual([
      { address: CITIZEN, status: 'failed' },
      { address: OFFICE, status: 'submitted' },
    ]);
    const citizenSteps = (await historyOf(sent.id)).filter((e) => e.recipient === CITIZEN);
    expect(JSON.stringify(citizenSteps)).toContain('casella inesistente');
  });

  it('a provider taking two recipients a transaction (452 for the rest) gets the others in transactions of their own, the same bytes', async () => {
    let inTransaction = 0;
    smtp.script = {
      mailFrom: () => {
        inTransaction = 0;
        return '250 2.1.0 Ok';
      },
      rcpt: () => (++inTransaction > 2 ? '452 4.5.3 Too many recipients' : '250 2.1.5 Ok'),
    };
    const everyone = [1, 2, 3, 4, 5].map((n) => `ufficio${n}@regione.pec.test`);
    const before = smtp.sessions.length;
    const sent = await outgoing.send(TENANT, senderId, {
      ...LETTER,
      to: everyone.slice(0, 3),
      cc: everyone.slice(3),
    });
    expect((await statesOf(sent.id)).map((r) => r.status)).toEqual(Array(5).fill('submitted'));
    const transactions = withData(smtp.sessions.slice(before));
    expect(transactions.map((t) => t.rcpt)).toEqual([
      everyone.slice(0, 2),
      everyone.slice(2, 4),
      everyone.slice(4),
    ]);
    expect(new Set(transactions.map((t) => t.data!.toString('latin1'))).size).toBe(1);
  });

  it('a recipient refused for now (450) in its own transaction too is failed with the latest reply, the others sent once', async () => {
    let attempt = 0;
    smtp.script = {
      rcpt: (a) =>
        a === CITIZEN ? `450 4.2.1 Casella occupata (tentativo ${++attempt})` : '250 2.1.5 Ok',
    };
    const before = smtp.sessions.length;
    const sent = await outgoing.send(TENANT, senderId, { ...LETTER, to: [OFFICE, CITIZEN] });
    expect(await statesOf(sent.id)).toEqual([
      { address: CITIZEN, status: 'failed' },
      { address: OFFICE, status: 'submitted' },
    ]);
    const [citizenStep] = (await historyOf(sent.id)).filter((e) => e.recipient === CITIZEN);
    expect(citizenStep!.data).toMatchObject({
      error: expect.stringContaining('tentativo 2'),
      responseCode: 450,
    });
    const sessions = smtp.sessions.slice(before);
    expect(sessions.map((s) => [s.rcpt, s.data !== undefined])).toEqual([
      [[OFFICE], true],
      [[], false],
    ]);
  });

  it('a message past the 30 MB provider limit (size × recipients) is refused before submission, naming it', async () => {
    smtp.script = {};
    const before = smtp.sessions.length;
    // 12 MB of attachment (about 16 MB once base64-encoded) to two recipients: 32 MB at the provider.
    const attachment = Buffer.alloc(12 * 1024 * 1024, 7);
    const outcome = await outgoing
      .send(TENANT, senderId, {
        ...LETTER,
        subject: 'Allegato grande',
        to: [OFFICE, CITIZEN],
        attachments: [
          { filename: 'planimetria.pdf', contentType: 'application/pdf', content: attachment },
        ],
      })
      .then(
        (sent) => ({ refused: null, deliveryStatus: sent.deliveryStatus }),
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked below
        (error: any) => ({
          refused: { code: error.code, status: error.status },
          deliveryStatus: null,
        }),
      );
    const submitted = withData(smtp.sessions.slice(before)).map(
      (s) => s.data!.length * s.rcpt.length,
    );
    expect({ ...outcome, submittedBytesTimesRecipients: submitted }).toEqual({
      refused: { code: 'invalid-outgoing-pec', status: 400 },
      deliveryStatus: null,
      submittedBytesTimesRecipients: [],
    });
  });

  it('a send task naming a field the connector does not send (bcc) is refused, not dropped while the message goes out', async () => {
    smtp.script = {};
    const before = smtp.sessions.length;
    const outcome = await runAction(pecConnector(createIntake(ctx, null)), 'send', {
      config: { mailboxId: senderId },
      input: { to: OFFICE, bcc: CITIZEN, subject: 'Con copia nascosta', text: '...' },
      call: {
        idempotencyKey: 'service-task:submission:bcc:1',
        tenantId: TENANT,
        instanceId: 'i',
        elementId: 'send',
        attempt: 1,
      },
    }).then(
      () => 'sent',
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked below
      (error: any) => error.code,
    );
    const rcpts = smtp.sessions.slice(before).flatMap((s) => s.rcpt);
    expect({ outcome, rcpts }).toEqual({ outcome: 'INPUT_INVALID', rcpts: [] });
  });

  it('a server that offers no STARTTLS never gets the password, unless the mailbox allows plain text; the message then goes out as recorded', async () => {
    const guarded = await mailboxServices(ctx).create(TENANT, {
      name: 'guarded',
      address: 'guarded@comune.pec.test',
      imap: { host: '127.0.0.1', port: 1, tls: false, allowPlaintext: true },
      username: 'guarded@comune.pec.test',
      password: 'segreto',
      enabled: false,
      smtp: { host: smtp.host, port: smtp.port, tls: false },
    });
    smtp.script = {};
    const sessions = smtp.sessions.length;
    const letter = key();
    const error = await failure(
      outgoing.send(TENANT, guarded.id, LETTER, { idempotencyKey: letter }),
    );
    expect(error.message).toMatch(/offers no STARTTLS.*allowPlaintext/);
    expect(error.details).toMatchObject({ transient: false });
    const refused = smtp.sessions.slice(sessions);
    expect(refused.map((s) => s.commands.map((c) => c.split(' ')[0]))).toEqual([
      ['EHLO', 'STARTTLS'],
    ]);
    expect(refused[0]!.auth).toEqual([]);
    // The body's choice for a relay on its own network: the same key sends the message it recorded.
    await mailboxServices(ctx).update(TENANT, guarded.id, {
      smtp: { host: smtp.host, port: smtp.port, tls: false, allowPlaintext: true },
    });
    const sent = await outgoing.send(TENANT, guarded.id, LETTER, { idempotencyKey: letter });
    expect(sent).toMatchObject({ messageId: error.details.messageId, replayed: false });
    const allowed = smtp.sessions.slice(sessions + 1);
    expect(allowed.map((s) => s.auth.length)).toEqual([1]);
    expect(withData(allowed)).toHaveLength(1);
  });

  it('421 at MAIL FROM is transient, its text kept; 553 at MAIL FROM is final', async () => {
    smtp.script = { mailFrom: () => '421 4.7.0 Too many messages, try again later' };
    const busy = await failure(outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: key() }));
    expect(busy.details).toMatchObject({ transient: true });
    expect(JSON.stringify(await historyOf(busy.details.id))).toContain('4.7.0 Too many messages');
    smtp.script = { mailFrom: () => '553 5.7.1 Sender not allowed' };
    const refused = await failure(
      outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: key() }),
    );
    expect(refused.details).toMatchObject({ transient: false });
    expect(JSON.stringify(await historyOf(refused.details.id))).toContain(
      '5.7.1 Sender not allowed',
    );
  });

  it('every recipient refused: 550 final, 450 transient, text kept; 554 after the data final', async () => {
    smtp.script = { rcpt: () => '550 5.1.1 User unknown' };
    const unknown = await failure(
      outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: key() }),
    );
    expect(unknown.details).toMatchObject({ transient: false });
    expect(await statesOf(unknown.details.id)).toEqual([{ address: OFFICE, status: 'failed' }]);
    expect(JSON.stringify(await historyOf(unknown.details.id))).toContain('5.1.1 User unknown');
    smtp.script = { rcpt: () => '450 4.2.1 Mailbox busy' };
    const busy = await failure(outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: key() }));
    expect(busy.details).toMatchObject({ transient: true });
    smtp.script = { afterData: () => '554 5.7.1 Message refused' };
    const data = await failure(outgoing.send(TENANT, senderId, LETTER, { idempotencyKey: key() }));
    expect(data.details).toMatchObject({ transient: false });
    expect(JSON.stringify(await historyOf(data.details.id))).toContain('5.7.1 Message refused');
  });

  it('the stored .eml is the bytes submitted; Message-ID as stored; cc in the envelope; headers encoded, no injection', async () => {
    smtp.script = {};
    const before = smtp.sessions.length;
    const sent = await outgoing.send(TENANT, senderId, {
      to: [OFFICE],
      cc: [CITIZEN],
      subject: 'Comunicazione – perché è così',
      text: 'Riga uno\r\n.\r\nRiga con punto\r\n',
      attachments: [
        {
          filename: 'Determinazione n. 12 – più.pdf',
          contentType: 'application/pdf',
          content: Buffer.from('%PDF-1.4 prova'),
        },
      ],
    });
    const session = withData(smtp.sessions.slice(before))[0]!;
    expect(session.rcpt).toEqual([OFFICE, CITIZEN]);
    const row = await db()('message').where({ id: sent.id }).first();
    const stored = await ctx.blobs.read(row.sha256, row.size);
    expect(session.data!.equals(stored)).toBe(true);
    const text = stored.toString('latin1');
    const header = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(header).toContain(`Message-ID: ${row.message_id}`);
    expect(header).not.toMatch(/^Bcc:/im);
    expect(text).not.toMatch(/^X-Injected:/im);
    expect(header).toMatch(/^Subject: =\?UTF-8\?/m);
    expect(text).toContain("filename*0*=utf-8''Determinazione");
    // A name carrying a line break is refused, naming it, before anything is recorded.
    const injected = await failure(
      outgoing.send(TENANT, senderId, {
        ...LETTER,
        attachments: [{ filename: 'a.pdf\r\nX-Injected: 1', content: Buffer.from('x') }],
      }),
    );
    expect(injected).toMatchObject({ status: 400, details: { field: 'attachments.0.filename' } });
    // So is a subject carrying one: it would go out on one line (nodemailer joins it), unlike the one recorded.
    const bcc = await failure(
      outgoing.send(TENANT, senderId, {
        ...LETTER,
        subject: 'Comunicazione\r\nBcc: spia@altrove.test',
      }),
    );
    expect(bcc).toMatchObject({ status: 400, details: { field: 'subject' } });
    expect(smtp.sessions.length - before).toBe(1);
  });
});

describe('the send endpoint (scripted SMTP)', () => {
  const runtime = useRuntime(sqlite);
  const intakeCtx = useIntakeContext(runtime);
  let smtp: ScriptedSmtp;
  let server: Server;
  let base: string;
  let mailboxId: string;
  const auth = { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` };

  beforeAll(async () => {
    const ctx = intakeCtx();
    smtp = await startScriptedSmtp();
    await addUser(runtime().orm, {
      tenantId: TENANT,
      username: 'admin',
      password: 'admin-password',
      roles: ['admin'],
    });
    mailboxId = await scriptedSender(ctx, smtp, SENDER);
    const app = createApp({
      services: runtime().services,
      orm: runtime().orm,
      defaultTenant: TENANT,
      logger: createLogger('silent'),
      intake: createIntake(ctx, null),
    });
    server = await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  afterAll(async () => {
    server?.close();
    await smtp?.close();
  });

  const send = async (body: unknown) => {
    const response = await fetch(`${base}/mailboxes/${mailboxId}/send`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  it('an address that is not one is a 400 naming the field, nothing submitted', async () => {
    const before = smtp.sessions.length;
    const bad = await send({ ...LETTER, cc: ['non-un-indirizzo'] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.problems)).toContain('body.cc.0');
    expect(smtp.sessions.length).toBe(before);
  });

  it('a bcc the send cannot honour is refused (400), not silently dropped', async () => {
    const before = smtp.sessions.length;
    const answer = await send({ ...LETTER, bcc: [CITIZEN] });
    const rcpts = smtp.sessions.slice(before).flatMap((s) => s.rcpt);
    expect({ status: answer.status, rcpts }).toEqual({ status: 400, rcpts: [] });
  });
});
