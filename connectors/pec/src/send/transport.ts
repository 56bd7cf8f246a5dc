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
  ) {
    super(message);
    this.name = 'PecSendError';
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
  const e = error as { code?: string; responseCode?: number; message?: string };
  return new PecSendError(e.code ?? 'ESEND', e.message ?? String(error), e.responseCode);
}
