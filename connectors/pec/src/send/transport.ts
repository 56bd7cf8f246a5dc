/**
 * Sends composed bytes through the mailbox's own SMTP (providers accept certified mail only
 * from their authenticated users) with nodemailer.
 */
import nodemailer from 'nodemailer';
import type { ComposedPec } from './compose.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (465). With false, STARTTLS is used when the server offers it. */
  tls: boolean;
  username: string;
  password: string;
  /** Give up a silent server after this long. */
  timeoutMs?: number;
}

export interface SubmissionResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
}

export class PecSendError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly responseCode?: number,
    /** The SMTP step that failed, as nodemailer names it ('CONN', 'AUTH PLAIN', 'MAIL FROM', 'DATA'...). */
    readonly command?: string,
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
    if (this.code === 'EMESSAGE') return false; // nodemailer: the reply to the message data
    if (this.responseCode !== undefined) return this.responseCode >= 400 && this.responseCode < 500;
    return this.command === 'CONN';
  }
}

export interface PecTransport {
  submit(composed: ComposedPec): Promise<SubmissionResult>;
  /** Connects and authenticates without sending ("test connection"). */
  verify(): Promise<void>;
  close(): void;
}

export function createPecTransport(settings: SmtpSettings): PecTransport {
  const timeout = settings.timeoutMs ?? 60_000;
  const transporter = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.tls,
    auth: { user: settings.username, pass: settings.password },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    async submit(composed) {
      try {
        const info = await transporter.sendMail({ envelope: composed.envelope, raw: composed.raw });
        return {
          messageId: composed.messageId,
          accepted: info.accepted.map(String),
          rejected: info.rejected.map(String),
          response: info.response,
        };
      } catch (error) {
        throw asSendError(error);
      }
    },
    async verify() {
      try {
        await transporter.verify();
      } catch (error) {
        throw asSendError(error);
      }
    },
    close: () => transporter.close(),
  };
}

function asSendError(error: unknown): PecSendError {
  const e = error as { code?: string; responseCode?: number; message?: string; command?: string };
  return new PecSendError(e.code ?? 'ESEND', e.message ?? String(error), e.responseCode, e.command);
}
