/** Opens an IMAP connection to a mailbox with its decrypted credentials. */
import { ImapFlow } from 'imapflow';
import { certificateAdvice, mailTlsOptions } from '@pectrack/connector-pec';
import type { Mailbox } from '../store/entities/mailbox.js';
import type { IntakeContext } from './context.js';
import { decryptSecret } from './secrets.js';

export interface ImapSettings {
  host: string;
  port: number;
  /** Implicit TLS (993). Without it STARTTLS is required, unless `allowPlaintext`. */
  tls: boolean;
  /** Log in even when the server offers no STARTTLS (a server on a trusted network). */
  allowPlaintext: boolean;
  /** Certificates trusted besides the system's (PECTRACK_MAIL_CA); absent: the system's only. */
  trustedCa?: string[];
  username: string;
  password: string;
}

/** Where a mailbox connects and as whom: what a description of its failure names. */
export type ImapEndpoint = Pick<ImapSettings, 'host' | 'port' | 'username'>;

export function imapEndpointOf(mailbox: Mailbox): ImapEndpoint {
  return { host: mailbox.imapHost, port: mailbox.imapPort, username: mailbox.username };
}

/**
 * Which account a folder position belongs to: the same folder name and UIDVALIDITY on another
 * account or server says nothing about which messages were read there.
 */
export function imapAccountOf(mailbox: Mailbox): string {
  const { username, host, port } = imapEndpointOf(mailbox);
  return `${username} at ${host.toLowerCase()}:${port}`;
}

export function imapSettingsOf(
  mailbox: Mailbox,
  ctx: Pick<IntakeContext, 'secretKey' | 'mailTrust'>,
): ImapSettings {
  return {
    host: mailbox.imapHost,
    port: mailbox.imapPort,
    tls: mailbox.imapTls,
    allowPlaintext: mailbox.imapAllowPlaintext,
    trustedCa: ctx.mailTrust,
    username: mailbox.username,
    password: decryptSecret(ctx.secretKey, mailbox.passwordEncrypted),
  };
}

/** A client for the mailbox, not yet connected (a caller bounding the attempt can close it). */
export function imapClient(settings: ImapSettings): ImapFlow {
  const client = new ImapFlow({
    host: settings.host,
    port: settings.port,
    secure: settings.tls,
    // Required, not opportunistic: the capability list that offers STARTTLS comes in clear, so
    // falling back when it is missing lets anyone on the path read the password (a stripped
    // STARTTLS). Only a mailbox configured for it logs in without.
    doSTARTTLS: settings.tls || settings.allowPlaintext ? undefined : true,
    tls: mailTlsOptions(settings.trustedCa),
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
 * What a person configuring the mailbox can act on, for the failures they usually meet, with
 * the system's own text after it: the connection test answers with it, and mailbox health
 * shows it for a sync that failed. A TLS handshake that reads a plain-text greeting is the
 * classic mix-up of port 143 and 993.
 */
export function describeConnectionError(error: unknown, endpoint: ImapEndpoint): string {
  const { code, message } = error as { code?: string; message?: string };
  const where = `${endpoint.host}:${endpoint.port}`;
  const text = message ?? String(error);
  const detail = errorDetail(error);
  if (isAuthenticationFailure(error))
    return `the server refused the login of ${endpoint.username}: check username and password (${detail})`;
  if (isTemporaryLoginFailure(error))
    return `${where} could not take the login of ${endpoint.username} for now (${(error as LoginError).serverResponseCode}); it is tried again later (${detail})`;
  if (code === 'ECONNREFUSED') return `nothing accepts connections at ${where} (${detail})`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `host ${endpoint.host} is not found (${detail})`;
  if (/wrong version number|packet length too long|unknown protocol/i.test(text))
    return `TLS handshake with ${where} failed: the port seems to speak plain text, set tls to false or use the TLS port (usually 993) (${detail})`;
  if (isStarttlsMissing(error))
    return `${where} offers no STARTTLS, so the password would cross the network in clear: use the server's TLS port (usually 993) with tls true, or, only for a server on a network you trust, set allowPlaintext to true (${detail})`;
  const advice = certificateAdvice(error as { code?: string; message?: string }, where);
  if (advice) return `${advice} (${detail})`;
  return detail;
}

/**
 * imapflow's refusal to log in without the STARTTLS it was told to require: none offered, or
 * a PREAUTH greeting that leaves no moment to start it. A failed handshake is a certificate or
 * protocol error instead, and says so itself.
 */
function isStarttlsMissing(error: unknown): boolean {
  const { tlsFailed, message } = error as { tlsFailed?: boolean; message?: string };
  return (
    tlsFailed === true && /does not support STARTTLS|STARTTLS is not possible/.test(message ?? '')
  );
}

/** The system's own account of a failure: its code, message and the server's answer. */
export function errorDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, responseText } = error as { code?: string; responseText?: string };
  const parts = [code, error.message, responseText].filter(Boolean);
  // A server's answer often repeats the message (imapflow puts it in both).
  return [...new Set(parts)].join(': ').slice(0, 900);
}

/**
 * RFC 5530 codes of a login the server could not take for now (its authentication backend is
 * down, too many connections, the account in use, a server fault): the password may well be
 * right, and trying again later is what helps. imapflow flags these as failed logins too.
 */
const TEMPORARY_LOGIN_CODES = new Set(['UNAVAILABLE', 'LIMIT', 'INUSE', 'SERVERBUG']);

interface LoginError {
  authenticationFailed?: boolean;
  serverResponseCode?: string;
}

/**
 * True for a login the server refused (wrong or expired password), as opposed to a network
 * failure or a temporary refusal. A refusal without a code counts as refused: many servers
 * send none, and retrying a wrong password gets PEC accounts locked.
 */
export function isAuthenticationFailure(error: unknown): boolean {
  const login = error as LoginError | null;
  return Boolean(login?.authenticationFailed) && !isTemporaryLoginFailure(error);
}

/** True for a login the server declined for now (an RFC 5530 temporary code). */
export function isTemporaryLoginFailure(error: unknown): boolean {
  const login = error as LoginError | null;
  return (
    Boolean(login?.authenticationFailed) &&
    TEMPORARY_LOGIN_CODES.has(login?.serverResponseCode?.toUpperCase() ?? '')
  );
}
