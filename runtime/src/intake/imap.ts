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

export async function connectImap(settings: ImapSettings): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.tls,
    auth: { user: settings.username, pass: settings.password },
    logger: false,
    // Enter IDLE soon after a sync pass so new mail is announced at once.
    autoIdleDelay: 500,
  });
  // A dropped connection is reported through `close`; without a listener `error` would crash.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** True for a login the server refused (wrong or expired password), as opposed to a network failure. */
export function isAuthenticationFailure(error: unknown): boolean {
  return Boolean((error as { authenticationFailed?: boolean } | null)?.authenticationFailed);
}
