/** Opens an IMAP connection to a mailbox with its decrypted credentials. */
import { ImapFlow } from 'imapflow';
import type { Mailbox } from '../store/entities/mailbox.js';
import { decryptSecret } from './secrets.js';

export interface ImapSettings {
  host: string;
  port: number;
  tls: boolean;
  username: string;
  password: string;
}

export function imapSettingsOf(mailbox: Mailbox, secretKey: Buffer): ImapSettings {
  return {
    host: mailbox.imapHost,
    port: mailbox.imapPort,
    tls: mailbox.imapTls,
    username: mailbox.username,
    password: decryptSecret(secretKey, mailbox.passwordEncrypted),
  };
}

/** A client for the mailbox, not yet connected (a caller bounding the attempt can close it). */
export function imapClient(settings: ImapSettings): ImapFlow {
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.tls,
    auth: { user: settings.username, pass: settings.password },
    logger: false,
    // Enter IDLE soon after a sync pass so new mail is announced at once.
    autoIdleDelay: 500,
    // imapflow waits 90 s for a TCP connection by default: a firewalled host looks like a hang.
    connectionTimeout: 30_000,
  });
  // A dropped connection is reported through `close`; without a listener `error` would crash.
  client.on('error', () => undefined);
  return client;
}

export async function connectImap(settings: ImapSettings): Promise<ImapFlow> {
  const client = imapClient(settings);
  await client.connect();
  return client;
}

/**
 * What a person configuring the mailbox can act on, for the failures they usually meet; the
 * system's own text is kept after it. A TLS handshake that reads a plain-text greeting is the
 * classic mix-up of port 143 and 993.
 */
export function describeConnectionError(error: unknown, settings: ImapSettings): string {
  const { code, message } = error as { code?: string; message?: string };
  const where = `${settings.host}:${settings.port}`;
  const text = message ?? String(error);
  if (isAuthenticationFailure(error))
    return `the server refused the login of ${settings.username}: check username and password (${text})`;
  if (code === 'ECONNREFUSED') return `nothing accepts connections at ${where} (${text})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `host ${settings.host} is not found (${text})`;
  if (/wrong version number|packet length too long|unknown protocol/i.test(text))
    return `TLS handshake with ${where} failed: the port seems to speak plain text, set tls to false or use the TLS port (usually 993) (${text})`;
  if (/certificate|CERT_|self.signed/i.test(`${code ?? ''} ${text}`))
    return `the TLS certificate of ${where} is not trusted (${text})`;
  return text;
}

/** True for a login the server refused (wrong or expired password), as opposed to a network failure. */
export function isAuthenticationFailure(error: unknown): boolean {
  return Boolean((error as { authenticationFailed?: boolean } | null)?.authenticationFailed);
}
