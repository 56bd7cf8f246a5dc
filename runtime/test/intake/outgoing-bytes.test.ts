/**
 * Certified sending end to end (intake/outgoing.ts → connector-pec send/): what the runtime
 * records for an outgoing message (its bytes, subject, recipients) is what the provider
 * received, over the scripted SMTP server. Found by review, each failing before its fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntakeContext } from '../../src/intake/index.js';
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
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;

describe('outgoing PEC: what is recorded against what went out (scripted SMTP)', () => {
  const runtime = useRuntime(sqlite);
  const intakeCtx = useIntakeContext(runtime);
  let ctx: IntakeContext;
  let smtp: ScriptedSmtp;
  let outgoing: OutgoingServices;
  let senderId: string;

  beforeAll(async () => {
    ctx = intakeCtx();
    smtp = await startScriptedSmtp();
    senderId = await scriptedSender(ctx, smtp, SENDER);
    outgoing = outgoingServices(ctx);
  });
  afterAll(() => smtp?.close());

  const row = (id: string) =>
    knexOf(runtime().orm)('message').where({ id }).first('sha256', 'size', 'subject');
  /** The bytes of the one session the last send opened (the scripted server keeps them). */
  const lastSubmitted = () => withData(smtp.sessions).at(-1)!;

  it('the stored .eml of a reply typed with LF line breaks is byte for byte what the provider received', async () => {
    // The body of a reply comes from a textarea (its value has LF line breaks, HTML spec) or a
    // JSON client. The outgoing .eml is stored (blob store, sha256 on the Message row) as the
    // record of what was certified, and a retry resubmits those bytes (earlier-send.ts
    // `recomposed`). nodemailer's SMTP client turns every bare LF into CRLF on the wire
    // (RFC 5321 §2.3.8 / RFC 5322 §2.3 allow no other line break), so the stored copy must
    // already be the CRLF form, or the record is not the certified message.
    const sent = await outgoing.send(TENANT, senderId, {
      to: [OFFICE],
      subject: 'Risposta istanza prot. 1234/2026',
      text: 'Gentile Sig. Rossi,\nsi comunica l’esito favorevole.\n\nCordiali saluti\n',
    });
    const { sha256, size } = await row(sent.id);
    const stored = await ctx.blobs.read(sha256, size);
    const submitted = lastSubmitted().data!;
    expect({
      sameBytes: stored.equals(submitted),
      storedSize: stored.length,
      submittedSize: submitted.length,
    }).toEqual({ sameBytes: true, storedSize: submitted.length, submittedSize: submitted.length });
  });

  it('an office named in To and again in Cc (in another case) is given one RCPT TO', async () => {
    // outgoing.ts `record` already lowercases and merges them into one tracked recipient ("the
    // same one in To and Cc ... is one mailbox"), as PEC providers treat addresses
    // case-insensitively (RFC 5321 §2.4 discourages relying on a case-sensitive local part).
    // nodemailer drops only exact duplicates from the envelope, so the provider is asked to
    // deliver, and certify the delivery of, the same message twice to one mailbox: two delivery
    // receipts for the one recipient row. An address copied from the incoming message or from
    // IndicePA ("Protocollo@Pec.Comune...") beside one typed in lower case is how it happens.
    await outgoing.send(TENANT, senderId, {
      to: [OFFICE],
      cc: ['Ufficio.Tecnico@regione.pec.test'],
      subject: 'Trasmissione atti',
      text: 'Si trasmettono gli atti.',
    });
    expect(lastSubmitted().rcpt.map((a) => a.toLowerCase())).toEqual([OFFICE]);
  });

  it('the subject recorded on the Message row is the subject that went out', async () => {
    // The case page, search and the desk show Message.subject as what the body certified. A
    // subject carrying a line break (mapped from a variable, pasted, posted by an API client) is
    // rewritten by nodemailer (CR/LF to a space) while the row keeps the input: the two differ.
    // Refused naming `subject` (a 400 through the API), before anything is recorded or sent.
    const subject = 'Risposta istanza\nprot. 1234/2026';
    const before = smtp.sessions.length;
    const outcome = await outgoing
      .send(TENANT, senderId, { to: [OFFICE], subject, text: 'Si comunica.' })
      .then(
        () => ({ refused: null }),
        (error: { status?: number; details?: { field?: string } }) => ({
          refused: error.details?.field,
          status: error.status,
        }),
      );
    const recorded = await knexOf(runtime().orm)('message').where({ subject }).count({ n: '*' });
    expect({
      ...outcome,
      recorded: Number(recorded[0]!.n),
      sessions: smtp.sessions.length - before,
    }).toEqual({
      refused: 'subject',
      status: 400,
      recorded: 0,
      sessions: 0,
    });
  });
});
