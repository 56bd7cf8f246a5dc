/** IMAP intake and certified sending for the runtime (issue 3, ARCHITECTURE §2). */
import type { Agenda } from 'agenda';
import { parsePec, loadTrustAnchors, ParsePool } from '@pectrack/connector-pec';
import type { BlobStore } from '../store/blobs.js';
import { PecTrackError } from '../errors.js';
import type { Orm } from '../store/orm.js';
import { DEFAULT_RECEIPT_TTL_MS } from '../config.js';
import {
  DEFAULT_LIMITS,
  type IntakeContext,
  type IntakeLimits,
  type IntakeLogger,
  type ReceiptPublication,
} from './context.js';
import { reopenAfterLoginRefused } from './health.js';
import { MailboxSyncJobs, type MailboxSyncSettings } from './job.js';
import {
  mailboxServices,
  type ConnectionTest,
  type MailboxInput,
  type MailboxPatch,
  type MailboxServices,
  type MailboxView,
} from './mailboxes.js';
import { messageQueries, type MessageQueries } from './messages.js';
import { messageFeed, type MessageFeed } from './feed.js';
import { deliveryFeed, type DeliveryFeed } from './delivery-feed.js';
import { outgoingServices, type OutgoingServices } from './outgoing.js';
import { fileServices, type FileServices } from './files.js';
import { reparseServices, type ReparseServices } from './reparse.js';
import { requestSync } from './sync-request.js';

export {
  DEFAULT_LIMITS,
  RECEIPT_MESSAGE,
  type IntakeContext,
  type IntakeLimits,
  type IntakeLogger,
  type ReceiptPublication,
} from './context.js';
export { runMailboxSession, Wakeup, type SessionOptions, type SessionSummary } from './session.js';
export { syncFolder, type FolderSyncResult } from './folder-sync.js';
export type { FolderProblem } from './sync-pass.js';
export { INTAKE_OUTBOX_KIND, recordBatch } from './record.js';
export type { AppliedReceipt } from './receipts.js';
export { encryptSecret, decryptSecret, parseSecretKey, SecretKeyError } from './secrets.js';

export interface IntakeOptions {
  orm: Orm;
  blobs: BlobStore;
  secretKey: Buffer;
  /** PEM certificates mail servers' TLS may chain to besides the system's (PECTRACK_MAIL_CA). */
  mailTrust?: string[];
  /** Certificates provider signatures must chain to (PEM text or DER); none: every signature is untrusted. */
  trustAnchors?: ReadonlyArray<string | Uint8Array>;
  /** Worker threads for parsing (ParsePool); 0 or absent parses on the calling thread. */
  parseWorkers?: number;
  /** Absent: receipts are kept for a week and delivered by the message buffer's sweep job. */
  receipts?: ReceiptPublication;
  log?: IntakeLogger;
  limits?: Partial<IntakeLimits>;
  now?: () => Date;
}

/**
 * Intake stores an outline of the inner message (header fields, attachment list): bodies are
 * read from the blob by whoever shows them, so a mailbox syncs at close to the server's pace.
 */
function parserFor(options: IntakeOptions): Pick<IntakeContext, 'parse' | 'close'> {
  if (options.parseWorkers) {
    const pool = new ParsePool({
      size: options.parseWorkers,
      inner: 'outline',
      ...(options.trustAnchors ? { trustAnchors: options.trustAnchors } : {}),
    });
    return { parse: (raw, request) => pool.parse(raw, request), close: () => pool.close() };
  }
  const anchors = options.trustAnchors ? loadTrustAnchors(options.trustAnchors) : undefined;
  const parseOptions = { inner: 'outline' as const, ...(anchors ? { trustAnchors: anchors } : {}) };
  return {
    parse: (raw, request) =>
      parsePec(raw, {
        ...parseOptions,
        ...(request?.inner && { inner: request.inner }),
        ...(request?.receivedAt && { receivedAt: request.receivedAt }),
      }),
    close: async () => undefined,
  };
}

const SILENT: IntakeLogger = { info: () => undefined, warn: () => undefined };

export function createIntakeContext(options: IntakeOptions): IntakeContext {
  return {
    orm: options.orm,
    blobs: options.blobs,
    secretKey: options.secretKey,
    ...(options.mailTrust ? { mailTrust: options.mailTrust } : {}),
    ...parserFor(options),
    now: options.now ?? (() => new Date()),
    receipts: options.receipts ?? {
      timeToLiveMs: DEFAULT_RECEIPT_TTL_MS,
      deliver: async () => undefined,
    },
    log: options.log ?? SILENT,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  };
}

export { fileServices, FileTooLargeError, type FileServices, type FileView } from './files.js';
export {
  mailboxServices,
  MailboxInput,
  MailboxPatch,
  type MailboxServices,
  type MailboxView,
  type MailboxHealth,
  type ConnectionTest,
} from './mailboxes.js';
export {
  messageQueries,
  MessageFilter,
  type MessageQueries,
  type MessageView,
  type MessageDetail,
  type MessagePart,
} from './messages.js';
export {
  reparseServices,
  ReparseSelection,
  type ReparseServices,
  type ReparseResult,
  type ReparseBatch,
} from './reparse.js';
export {
  outgoingServices,
  SubmissionFailedError,
  type OutgoingServices,
  type SendInput,
  type SentMessage,
} from './outgoing.js';
export {
  MailboxSyncJobs,
  MAILBOX_SYNC_JOB,
  DEFAULT_SYNC_SETTINGS,
  type MailboxSyncJobData,
  type MailboxSyncSettings,
} from './job.js';

/**
 * What the API and the CLI use: mailbox configuration that keeps the sync jobs in step, the
 * message queries, and sending.
 */
export interface Intake {
  ctx: IntakeContext;
  mailboxes: MailboxServices;
  messages: MessageQueries;
  /** Every message in the order it was stored, for another system that keeps a cursor. */
  feed: MessageFeed;
  /** Every step of the messages sent (submission, receipts) in the order it was stored. */
  deliveryFeed: DeliveryFeed;
  outgoing: OutgoingServices;
  /** Files uploaded to be sent as attachments. */
  files: FileServices;
  /** Received messages read again from their bytes, and given what the new reading calls for. */
  reparse: ReparseServices;
  jobs: MailboxSyncJobs | null;
  createMailbox(tenantId: string, input: MailboxInput): Promise<MailboxView>;
  updateMailbox(tenantId: string, id: string, patch: MailboxPatch): Promise<MailboxView>;
  deleteMailbox(tenantId: string, id: string): Promise<void>;
  /** Refuses a disabled mailbox (MailboxDisabledError); after a refused login, tries once more. */
  syncNow(tenantId: string, id: string): Promise<{ scheduled: boolean }>;
  /** The connection test; one that logs in lets a mailbox whose login was refused sync again. */
  testConnection(tenantId: string, id: string): Promise<ConnectionTest>;
}

/** "Sync now" on a mailbox that is switched off: enabling it is what starts its sync. */
export class MailboxDisabledError extends PecTrackError {
  constructor(id: string) {
    super('mailbox-disabled', 409, `mailbox ${id} is disabled: enable it to sync it`, { id });
  }
}

export function createIntake(
  ctx: IntakeContext,
  agenda: Agenda | null,
  settings?: MailboxSyncSettings,
): Intake {
  const mailboxes = mailboxServices(ctx);
  const jobs = agenda ? new MailboxSyncJobs(agenda, ctx, settings) : null;
  return {
    ctx,
    mailboxes,
    messages: messageQueries(ctx),
    feed: messageFeed(ctx),
    deliveryFeed: deliveryFeed(ctx),
    outgoing: outgoingServices(ctx),
    files: fileServices(ctx),
    reparse: reparseServices(ctx),
    jobs,
    async createMailbox(tenantId, input) {
      const view = await mailboxes.create(tenantId, input);
      if (view.enabled) await jobs?.watch({ tenantId, mailboxId: view.id });
      return view;
    },
    async updateMailbox(tenantId, id, patch) {
      const view = await mailboxes.update(tenantId, id, patch);
      // The session, on whichever node, reads the new configuration (or that it is off) now.
      await requestSync(ctx, tenantId, id);
      if (view.enabled) await jobs?.watch({ tenantId, mailboxId: id });
      else await jobs?.unwatch(id);
      return view;
    },
    async deleteMailbox(tenantId, id) {
      await mailboxes.remove(tenantId, id);
      await jobs?.unwatch(id);
    },
    async syncNow(tenantId, id) {
      if (!(await mailboxes.get(tenantId, id)).enabled) throw new MailboxDisabledError(id);
      // Someone asked: a login refused earlier is worth one more attempt (health.ts).
      await reopenAfterLoginRefused(ctx, tenantId, id);
      // Seen by the session wherever it runs, also from a node without a scheduler.
      await requestSync(ctx, tenantId, id);
      await jobs?.syncNow({ tenantId, mailboxId: id });
      return { scheduled: true };
    },
    async testConnection(tenantId, id) {
      const test = await mailboxes.testConnection(tenantId, id);
      const view = await mailboxes.get(tenantId, id);
      if (test.ok && view.enabled && view.health.status === 'auth-failed') {
        await reopenAfterLoginRefused(ctx, tenantId, id);
        await jobs?.watch({ tenantId, mailboxId: id });
      }
      return test;
    },
  };
}
