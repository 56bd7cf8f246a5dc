/**
 * Sends composed bytes through the mailbox's own SMTP (providers accept certified mail only
 * from their authenticated users) with nodemailer.
 */
import nodemailer from 'nodemailer';
import type { ComposedPec } from './compose.js';
import { certificateAdvice, mailTlsOptions } from './trust.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (465). With false, STARTTLS is required before the login, unless `allowPlaintext`. */
  tls: boolean;
  /**
   * Log in even when the server offers no STARTTLS, the password then in clear: only for a
   * server on a network the body trusts. Absent: false.
   */
  allowPlaintext?: boolean;
  /** PEM certificates the server's may chain to besides the system's (mailTlsOptions). */
  trustedCa?: readonly string[];
  username: string;
  password: string;
  /** Give up a silent server after this long. */
  timeoutMs?: number;
}

export interface SubmissionResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  /** Why each rejected recipient was refused: the server's reply to its RCPT TO. */
  refusals: RecipientRefusal[];
  response: string;
}

export interface RecipientRefusal {
  address: string;
  reply: string;
  responseCode: number | null;
  /**
   * The provider certainly did not take the message for this recipient: it refused its RCPT TO,
   * or its own transaction failed before the message data went out (PecSendError.notTaken).
   */
  notTaken: boolean;
}

export class PecSendError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly responseCode?: number,
    /** The SMTP step that failed, as nodemailer names it ('CONN', 'AUTH PLAIN', 'MAIL FROM', 'DATA'...). */
    readonly command?: string,
    /** For a connection failure: the system's error code (ECONNREFUSED...), or which timeout. */
    readonly originalCode?: string,
    readonly timeoutType?: string,
  ) {
    super(message);
    this.name = 'PecSendError';
  }

  /**
   * The provider did not take the message and may take it later, so sending it again cannot
   * certify it twice: it refused for now (a 4xx reply) before the message data went out (at
   * connection, login, sender, recipients or the DATA command: a provider that throttles
   * sending), or no connection could be made. Once the data went out, whether the provider took
   * it is not certain even after a 4xx (RFC 5321 says it did not, but a certified message sent
   * twice is two legal notifications), nor after a lost connection: a person decides.
   */
  get transient(): boolean {
    if (!this.notTaken) return false;
    return this.responseCode === undefined || (this.responseCode >= 400 && this.responseCode < 500);
  }

  /**
   * The provider certainly did not take the message, whatever it said: it answered before the
   * message data went out, or no session ever opened. A message refused so can be replaced by a
   * corrected one without certifying two.
   */
  get notTaken(): boolean {
    if (this.code === 'EMESSAGE') return false; // nodemailer: the reply to the message data
    return this.responseCode !== undefined || this.neverConnected;
  }

  /**
   * nodemailer names every connection failure 'CONN', whenever it happens: a socket closed or a
   * server gone silent after the message data went out too. Only failing to get a session at
   * all (nothing listens, no such host, no answer to connect or greet) says nothing was sent.
   */
  private get neverConnected(): boolean {
    if (this.command !== 'CONN') return false;
    if (this.code === 'EDNS') return true;
    if (this.timeoutType) return NO_SESSION_TIMEOUTS.has(this.timeoutType);
    return NO_SESSION_ERRORS.has(this.originalCode ?? '');
  }
}

/** System errors of a connection that never opened. */
const NO_SESSION_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** nodemailer's timeouts before a session exists (not SOCKET_TIMEOUT: that one may be after DATA). */
const NO_SESSION_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT']);

export interface PecTransport {
  submit(composed: ComposedPec): Promise<SubmissionResult>;
  /** Connects and authenticates without sending ("test connection"). */
  verify(): Promise<void>;
  close(): void;
}

export function createPecTransport(settings: SmtpSettings): PecTransport {
  const timeout = settings.timeoutMs ?? 60_000;
  const trust = mailTlsOptions(settings.trustedCa);
  const where = `SMTP server ${settings.host}:${settings.port}`;
  const transporter = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.tls,
    // Required, not taken when offered: the EHLO reply that offers STARTTLS comes in clear, and
    // one stripped of it on the path would otherwise get the password in clear.
    requireTLS: !settings.tls && !settings.allowPlaintext,
    ...(trust && { tls: trust }),
    auth: { user: settings.username, pass: settings.password },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    async submit(composed) {
      // The same bytes every time: the envelope alone says who a transaction is for.
      const transaction = (to: string[]) =>
        transporter.sendMail({ envelope: { ...composed.envelope, to }, raw: composed.raw });
      let first: SubmissionResult;
      try {
        const info = await transaction(composed.envelope.to);
        first = {
          messageId: composed.messageId,
          accepted: info.accepted.map(String),
          rejected: info.rejected.map(String),
          refusals: refusalsOf(info),
          response: info.response,
        };
      } catch (error) {
        throw asSendError(error, where);
      }
      return sendRefusedForNow(first, transaction);
    },
    async verify() {
      try {
        await transporter.verify();
      } catch (error) {
        throw asSendError(error, where);
      }
    },
    close: () => transporter.close(),
  };
}

type Transaction = (to: string[]) => Promise<{ accepted: unknown[]; rejectedErrors?: unknown[] }>;

/**
 * RFC 5321 (4.5.3.1.10): a server that takes only so many recipients a transaction refuses the
 * rest for now (452), and the client sends them the message in a transaction of its own. Every
 * recipient refused for now (4xx) gets that, round after round while each round takes someone
 * (so at most one round a recipient); one still refused keeps the latest reply. A later round
 * that fails as a whole leaves its recipients refused with that failure, the earlier rounds'
 * recipients taken all the same.
 */
async function sendRefusedForNow(
  first: SubmissionResult,
  transaction: Transaction,
): Promise<SubmissionResult> {
  let result = first;
  for (;;) {
    const later = result.refusals.filter(refusedForNow).map((r) => r.address);
    if (later.length === 0) return result;
    const round = await transaction(later).then(
      (info) => ({ accepted: info.accepted.map(String), refusals: refusalsOf(info) }),
      (error: unknown) => ({ accepted: [], refusals: refusalsOfFailedRound(error, later) }),
    );
    const settled = new Set(later.map((address) => address.toLowerCase()));
    const refusals = [
      ...result.refusals.filter((r) => !settled.has(r.address.toLowerCase())),
      ...round.refusals,
    ];
    result = {
      ...result,
      accepted: [...result.accepted, ...round.accepted],
      rejected: refusals.map((r) => r.address),
      refusals,
    };
    if (round.accepted.length === 0) return result;
  }
}

const refusedForNow = (refusal: RecipientRefusal) =>
  refusal.responseCode !== null && refusal.responseCode >= 400 && refusal.responseCode < 500;

/** Every recipient refused again (nodemailer lists them on the error), or the round's own failure. */
function refusalsOfFailedRound(error: unknown, recipients: string[]): RecipientRefusal[] {
  const listed = refusalsOf(error as { rejectedErrors?: unknown[] });
  if (listed.length > 0) return listed;
  const { message, responseCode } = error as { message?: string; responseCode?: number };
  const { notTaken } = asSendError(error, '');
  return recipients.map((address) => ({
    address,
    reply: `in a transaction of its own: ${message ?? String(error)}`,
    responseCode: responseCode ?? null,
    notTaken,
  }));
}

/** nodemailer keeps each refused recipient's reply beside the list of them. */
function refusalsOf(info: { rejectedErrors?: unknown[] }): RecipientRefusal[] {
  return (info.rejectedErrors ?? []).map((error) => {
    const e = error as {
      recipient?: string;
      response?: string;
      responseCode?: number;
      message?: string;
    };
    return {
      address: String(e.recipient ?? ''),
      reply: e.response ?? e.message ?? 'refused',
      responseCode: e.responseCode ?? null,
      // Refused at RCPT TO: the message data never went to this recipient.
      notTaken: true,
    };
  });
}

function asSendError(error: unknown, where: string): PecSendError {
  const e = error as {
    code?: string;
    responseCode?: number;
    message?: string;
    command?: string;
    originalCode?: string;
    timeoutType?: string;
  };
  return new PecSendError(
    e.code ?? 'ESEND',
    explained(e, where),
    e.responseCode,
    e.command,
    e.originalCode,
    e.timeoutType,
  );
}

/**
 * nodemailer's own words, after what a person configuring the mailbox can do about the two
 * failures of a required STARTTLS: the server refused it (offers none), or its certificate did
 * not verify.
 */
function explained(
  e: { code?: string; command?: string; message?: string; originalCode?: string },
  where: string,
): string {
  const text = e.message ?? 'the submission failed';
  if (e.code === 'ETLS' && e.command === 'STARTTLS' && /^Error upgrading connection/.test(text))
    return `${where} offers no STARTTLS, so the password would cross the network in clear: use its TLS port (usually 465) with tls true, or, only for a server on a network you trust, set allowPlaintext to true (${text})`;
  const advice = certificateAdvice(e, where);
  return advice ? `${advice} (${text})` : text;
}
