/**
 * Mailbox configuration: create, update, delete, read (never the password), test a
 * connection, and health. Each write is one transaction; passwords are encrypted before they
 * reach the database.
 */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import { z } from 'zod';
import { createPecTransport } from '@pectrack/connector-pec';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import {
  MailboxCheckpointSchema,
  MailboxSchema,
  type FolderProblem,
  type Mailbox,
  type MailboxHealthStatus,
} from '../store/entities/mailbox.js';
import { MessageSchema } from '../store/entities/message.js';
import { TenantSchema } from '../store/entities/tenant.js';
import { tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';
import { sendingBacklog } from './pacing.js';
import {
  describeConnectionError,
  imapClient,
  imapSettingsOf,
  isAuthenticationFailure,
} from './imap.js';
import { smtpSettingsOf } from './smtp.js';
import { sameFolder } from './sync-pass.js';
import { decryptSecret, encryptSecret } from './secrets.js';
import { withheldOf, type WithheldMessage } from './withheld.js';

const Host = z.string().min(1).max(255);
const Port = z.number().int().min(1).max(65535);
/** IMAP keywords are atoms: no spaces, parentheses, braces, quotes, wildcards or backslashes. */
const Keyword = z
  .string()
  .regex(
    /^\$?[A-Za-z0-9_.-]{1,64}$/,
    'must be an IMAP keyword (letters, digits, _ . -, optional leading $)',
  );

/**
 * `tls`: implicit TLS (IMAP 993, SMTP 465). With false the connection must be upgraded by
 * STARTTLS before the login, unless `allowPlaintext` says that this server, on a network the
 * body trusts, may get the password in clear. It describes the server as a whole: an update
 * that leaves it out turns it off.
 */
const serverFields = {
  host: Host,
  port: Port,
  tls: z.boolean(),
  allowPlaintext: z.boolean().default(false),
};
const applies = (server: { tls: boolean; allowPlaintext: boolean }) =>
  !(server.tls && server.allowPlaintext);
const onlyWithoutTls = {
  message: 'applies only with tls false (a TLS connection never goes in plain text)',
  path: ['allowPlaintext'],
};
const Server = z.strictObject(serverFields).refine(applies, onlyWithoutTls);
/** The provider's submission server, and how many messages a minute it takes (absent: no limit). */
const SmtpServer = z
  .strictObject({
    ...serverFields,
    maxPerMinute: z.number().int().min(1).max(600).nullable().optional(),
  })
  .refine(applies, onlyWithoutTls);
const Folders = z
  .array(z.string().min(1).max(255))
  .min(1)
  .max(50)
  .refine((folders) => new Set(folders).size === folders.length, 'must not name a folder twice');

/** Every field of a mailbox, none defaulted: what a create fills in and an update may change. */
const MailboxFields = {
  name: z.string().min(1).max(200),
  // 254: the longest address SMTP carries (RFC 5321 path limit), within the column's 255.
  address: z.email().max(254),
  imap: Server,
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(1024),
  folders: Folders,
  smtp: SmtpServer.nullable(),
  flagKeyword: Keyword.nullable(),
  enabled: z.boolean(),
};

export const MailboxInput = z.strictObject({
  ...MailboxFields,
  folders: Folders.default(['INBOX']),
  smtp: SmtpServer.nullable().default(null),
  flagKeyword: Keyword.nullable().default(null),
  enabled: z.boolean().default(true),
});
export type MailboxInput = z.input<typeof MailboxInput>;

/**
 * An update names only what changes; a field left out keeps its value. Built from the fields
 * without defaults: a default inside a partial schema would fill in, and so reset, every field
 * the caller left out.
 */
export const MailboxPatch = z.strictObject(MailboxFields).partial();
export type MailboxPatch = z.input<typeof MailboxPatch>;

export interface MailboxView {
  id: string;
  name: string;
  address: string;
  imap: { host: string; port: number; tls: boolean; allowPlaintext: boolean };
  username: string;
  folders: string[];
  smtp: {
    host: string;
    port: number;
    tls: boolean;
    allowPlaintext: boolean;
    maxPerMinute: number | null;
  } | null;
  flagKeyword: string | null;
  enabled: boolean;
  health: MailboxHealth;
  createdAt: string;
  updatedAt: string;
}

export interface MailboxHealth {
  status: MailboxHealthStatus;
  lastError: string | null;
  consecutiveFailures: number;
  lastSyncAt: string | null;
  folders: {
    folder: string;
    uidValidity: string;
    lastUid: number;
    updatedAt: string;
    /** The message the folder is held at (listed, never returned whole), until it comes or is recorded without it. */
    withheld: { uid: number; passes: number; since: string } | null;
  }[];
  /** The watched folders the last pass could not read, each with the reason. */
  folderProblems: FolderProblem[];
  /** For a paced mailbox (smtp.maxPerMinute): its submissions of the last minute, and the sends queued for a slot. */
  sending: { submittedLastMinute: number; waiting: number } | null;
  /**
   * Messages of this mailbox the parser could not read: kept, but opening no case and moving
   * nothing until they are read again (POST /messages/reparse with kind `unparseable`).
   */
  unparseable: number;
}

/** `ok` and the fields beside it are about IMAP, which the sync needs; `smtp` about sending. */
export interface ConnectionTest {
  ok: boolean;
  authenticationFailed: boolean;
  error: string | null;
  capabilities: string[];
  folders: { folder: string; exists: boolean }[];
  /** The submission server's login, tried beside; null for a mailbox that does not send. */
  smtp: { ok: boolean; error: string | null } | null;
}

export function viewOf(mailbox: Mailbox, health: MailboxHealth): MailboxView {
  return {
    id: mailbox.id,
    name: mailbox.name,
    address: mailbox.address,
    imap: {
      host: mailbox.imapHost,
      port: mailbox.imapPort,
      tls: mailbox.imapTls,
      allowPlaintext: mailbox.imapAllowPlaintext,
    },
    username: mailbox.username,
    folders: mailbox.folders,
    smtp:
      mailbox.smtpHost && mailbox.smtpPort
        ? {
            host: mailbox.smtpHost,
            port: mailbox.smtpPort,
            tls: mailbox.smtpTls,
            allowPlaintext: mailbox.smtpAllowPlaintext,
            maxPerMinute: mailbox.smtpMaxPerMinute ?? null,
          }
        : null,
    flagKeyword: mailbox.flagKeyword,
    enabled: mailbox.enabled,
    health,
    createdAt: mailbox.createdAt.toISOString(),
    updatedAt: mailbox.updatedAt.toISOString(),
  };
}

/** An address is one mailbox per tenant (a unique key): a second one is a conflict naming it. */
/** The columns an `imap` server object sets, whole: a field left out takes its default. */
/**
 * The API never shows the stored password; a new server given without it would get it at the
 * next login (or a connection test), so whoever may edit a mailbox could point it at a server
 * of their own and read it there. Another server needs the password given again.
 */
function refuseStoredPasswordElsewhere(
  mailbox: Mailbox,
  patch: z.output<typeof MailboxPatch>,
): void {
  if (patch.password !== undefined) return;
  const elsewhere = (host: string, known: string) => host.toLowerCase() !== known.toLowerCase();
  const moved = [
    patch.imap && elsewhere(patch.imap.host, mailbox.imapHost) ? 'IMAP' : null,
    // A mailbox that did not send yet: its SMTP server is new unless it is the IMAP one.
    patch.smtp && elsewhere(patch.smtp.host, mailbox.smtpHost ?? mailbox.imapHost) ? 'SMTP' : null,
  ].filter((server) => server !== null);
  if (moved.length > 0)
    throw new BadRequestError(
      'password-required',
      `password: a new ${moved.join(' and ')} server needs the password given again (the stored one is never sent to another server)`,
      { field: 'password' },
    );
}

/** Whether `patch` changes how the mailbox logs in to IMAP (server, username or password). */
function credentialsChange(
  secretKey: Buffer,
  mailbox: Mailbox,
  patch: z.output<typeof MailboxPatch>,
): boolean {
  const server = patch.imap ? imapColumns(patch.imap) : {};
  const serverChanges = Object.entries(server).some(
    ([column, value]) => mailbox[column as keyof typeof server] !== value,
  );
  return (
    serverChanges ||
    (patch.username !== undefined && patch.username !== mailbox.username) ||
    (patch.password !== undefined && patch.password !== storedPassword(secretKey, mailbox))
  );
}

/** The stored password; null when it no longer decrypts (the key changed): any given is new. */
function storedPassword(secretKey: Buffer, mailbox: Mailbox): string | null {
  try {
    return decryptSecret(secretKey, mailbox.passwordEncrypted);
  } catch {
    return null;
  }
}

function imapColumns(imap: z.output<typeof Server>) {
  return {
    imapHost: imap.host,
    imapPort: imap.port,
    imapTls: imap.tls,
    imapAllowPlaintext: imap.allowPlaintext,
  };
}

/** The columns an `smtp` server object (or null: none) sets; `pace` is the one it had. */
function smtpColumns(smtp: z.output<typeof SmtpServer> | null, pace: number | null) {
  return {
    smtpHost: smtp?.host ?? null,
    smtpPort: smtp?.port ?? null,
    smtpTls: smtp?.tls ?? false,
    smtpAllowPlaintext: smtp?.allowPlaintext ?? false,
    smtpMaxPerMinute: paceAfter(smtp, pace),
  };
}

/** A new server without a pace keeps the pace: only an explicit null (or no server) lifts it. */
function paceAfter(smtp: z.infer<typeof SmtpServer> | null, current: number | null): number | null {
  if (!smtp) return null;
  return smtp.maxPerMinute === undefined ? current : smtp.maxPerMinute;
}

async function flushNamingAddress(em: EntityManager, address: string): Promise<void> {
  try {
    await em.flush();
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
    throw new ConflictError(`a mailbox with address ${address} already exists`, {
      field: 'address',
    });
  }
}

/** The message a folder is held at, as health shows it. */
function withheldView(held: WithheldMessage | null) {
  return held && { uid: held.uid, passes: held.passes, since: held.since.toISOString() };
}

export function mailboxServices(ctx: IntakeContext) {
  const em = (tenantId: string) => tenantFork(ctx.orm, tenantId);

  async function load(tenantId: string, id: string): Promise<Mailbox> {
    const mailbox = await em(tenantId).findOne(MailboxSchema, { id });
    if (!mailbox) throw new NotFoundError('mailbox', id);
    return mailbox;
  }

  async function health(tenantId: string, mailbox: Mailbox): Promise<MailboxHealth> {
    const checkpoints = await em(tenantId).find(
      MailboxCheckpointSchema,
      { mailboxId: mailbox.id },
      { orderBy: { folder: 'asc' } },
    );
    return {
      status: mailbox.healthStatus,
      lastError: mailbox.lastError,
      consecutiveFailures: mailbox.consecutiveFailures,
      lastSyncAt: mailbox.lastSyncAt?.toISOString() ?? null,
      // A folder no longer watched keeps its position (added back, it goes on from there), not a place here.
      folders: checkpoints
        .filter((c) => mailbox.folders.some((folder) => sameFolder(folder, c.folder)))
        .map((c) => ({
          folder: c.folder,
          uidValidity: c.uidValidity,
          lastUid: c.lastUid,
          updatedAt: c.updatedAt.toISOString(),
          withheld: withheldView(withheldOf(c)),
        })),
      folderProblems: mailbox.folderProblems ?? [],
      sending: sendingBacklog(ctx, mailbox),
      unparseable: await em(tenantId).count(MessageSchema, {
        mailboxId: mailbox.id,
        kind: 'unparseable',
      }),
    };
  }

  const view = async (tenantId: string, mailbox: Mailbox) =>
    viewOf(mailbox, await health(tenantId, mailbox));

  return {
    async create(tenantId: string, input: MailboxInput): Promise<MailboxView> {
      const data = MailboxInput.parse(input);
      const now = ctx.now();
      const fork = em(tenantId);
      const mailbox = fork.create(MailboxSchema, {
        id: randomUUID(),
        tenant: fork.getReference(TenantSchema, tenantId),
        name: data.name,
        address: data.address.toLowerCase(),
        ...imapColumns(data.imap),
        username: data.username,
        passwordEncrypted: encryptSecret(ctx.secretKey, data.password),
        folders: data.folders,
        ...smtpColumns(data.smtp, null),
        flagKeyword: data.flagKeyword,
        enabled: data.enabled,
        healthStatus: data.enabled ? 'unknown' : 'disabled',
        lastError: null,
        consecutiveFailures: 0,
        lastSyncAt: null,
        createdAt: now,
        updatedAt: now,
      });
      await flushNamingAddress(fork, mailbox.address);
      return view(tenantId, mailbox);
    },

    async update(tenantId: string, id: string, patch: MailboxPatch): Promise<MailboxView> {
      const data = MailboxPatch.parse(patch);
      const fork = em(tenantId);
      const mailbox = await fork.findOne(MailboxSchema, { id });
      if (!mailbox) throw new NotFoundError('mailbox', id);
      refuseStoredPasswordElsewhere(mailbox, data);
      // Read before the patch: a form sends every field back, changed or not.
      const newCredentials = credentialsChange(ctx.secretKey, mailbox, data);
      if (data.name !== undefined) mailbox.name = data.name;
      if (data.address !== undefined) mailbox.address = data.address.toLowerCase();
      if (data.imap !== undefined) Object.assign(mailbox, imapColumns(data.imap));
      if (data.username !== undefined) mailbox.username = data.username;
      if (data.password !== undefined)
        mailbox.passwordEncrypted = encryptSecret(ctx.secretKey, data.password);
      if (data.folders !== undefined) mailbox.folders = data.folders;
      if (data.smtp !== undefined)
        Object.assign(mailbox, smtpColumns(data.smtp, mailbox.smtpMaxPerMinute ?? null));
      if (data.flagKeyword !== undefined) mailbox.flagKeyword = data.flagKeyword;
      // Only a change: a form that sends every field must not reset health (nor reopen a login
      // the provider refused) on a rename. Switched back on, a mailbox starts afresh.
      if (data.enabled !== undefined && data.enabled !== mailbox.enabled) {
        mailbox.enabled = data.enabled;
        Object.assign(
          mailbox,
          data.enabled
            ? {
                healthStatus: 'unknown',
                lastError: null,
                consecutiveFailures: 0,
                folderProblems: null,
              }
            : { healthStatus: 'disabled' },
        );
      }
      // New credentials deserve a fresh start: the old failures, the folders the old login
      // could not open, were about the old ones. The same ones sent again change nothing: a
      // login the provider refused is not tried again (a locked PEC account) for a rename.
      if (newCredentials) {
        Object.assign(mailbox, {
          healthStatus: mailbox.enabled ? 'unknown' : 'disabled',
          lastError: null,
          consecutiveFailures: 0,
          folderProblems: null,
        });
      }
      mailbox.updatedAt = ctx.now();
      await flushNamingAddress(fork, mailbox.address);
      return view(tenantId, mailbox);
    },

    /** Removes the configuration and its checkpoints; the messages it brought in stay. */
    async remove(tenantId: string, id: string): Promise<void> {
      await load(tenantId, id);
      await em(tenantId).transactional(async (tx) => {
        await tx.nativeDelete(MailboxCheckpointSchema, { mailboxId: id });
        await tx.nativeDelete(MailboxSchema, { id });
      });
    },

    async get(tenantId: string, id: string): Promise<MailboxView> {
      return view(tenantId, await load(tenantId, id));
    },

    async list(tenantId: string): Promise<MailboxView[]> {
      const mailboxes = await em(tenantId).find(MailboxSchema, {}, { orderBy: { name: 'asc' } });
      return Promise.all(mailboxes.map((m) => view(tenantId, m)));
    },

    async health(tenantId: string, id: string): Promise<MailboxHealth> {
      return health(tenantId, await load(tenantId, id));
    },

    /**
     * Logs in to IMAP and looks for the watched folders, without reading or changing any mail,
     * and to the SMTP server if the mailbox sends, without sending: a login or certificate that
     * does not work shows here rather than at the first certified reply.
     */
    async testConnection(tenantId: string, id: string): Promise<ConnectionTest> {
      const mailbox = await load(tenantId, id);
      const [imap, smtp] = await Promise.all([testImap(mailbox), testSmtp(mailbox)]);
      return { ...imap, smtp };
    },
  };

  /**
   * Bounded by `connectionTestMs`: a server that greets and then goes quiet would otherwise
   * hold the request for imapflow's 5-minute socket timeout.
   */
  async function testImap(mailbox: Mailbox): Promise<Omit<ConnectionTest, 'smtp'>> {
    const settings = imapSettingsOf(mailbox, ctx);
    const client = imapClient(settings);
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      client.close();
    }, ctx.limits.connectionTestMs);
    try {
      await client.connect();
      const listed = (await client.list()).map((f) => f.path);
      return {
        ok: true,
        authenticationFailed: false,
        error: null,
        capabilities: [...client.capabilities.keys()].sort(),
        folders: mailbox.folders.map((folder) => ({
          folder,
          exists: listed.some((path) => sameFolder(path, folder)),
        })),
      };
    } catch (error) {
      const seconds = ctx.limits.connectionTestMs / 1000;
      return {
        ok: false,
        authenticationFailed: isAuthenticationFailure(error),
        error: timedOut
          ? `${settings.host}:${settings.port} did not answer within ${seconds} s`
          : describeConnectionError(error, settings),
        capabilities: [],
        folders: [],
      };
    } finally {
      clearTimeout(deadline);
      if (!timedOut) await client.logout().catch(() => undefined);
    }
  }

  /** nodemailer's own timeouts, set to the same bound, end a server that goes quiet. */
  async function testSmtp(mailbox: Mailbox): Promise<ConnectionTest['smtp']> {
    if (!mailbox.smtpHost || !mailbox.smtpPort) return null;
    const transport = createPecTransport({
      ...smtpSettingsOf(mailbox, ctx),
      timeoutMs: ctx.limits.connectionTestMs,
    });
    try {
      await transport.verify();
      return { ok: true, error: null };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    } finally {
      transport.close();
    }
  }
}

export type MailboxServices = ReturnType<typeof mailboxServices>;
