import { EntitySchema } from '@mikro-orm/core';
import { TenantSchema, type Tenant } from './tenant.js';

/** `auth-failed` is separate from `failing`: an expired app password needs a human, not a retry. */
export type MailboxHealthStatus = 'unknown' | 'ok' | 'failing' | 'auth-failed' | 'disabled';

/** A watched folder the last sync pass could not read, and why, in words an administrator acts on. */
export interface FolderProblem {
  folder: string;
  reason: string;
}

/** A keyed send waiting for a sending slot: when it last asked, and until when it keeps its place (ISO instants). */
export interface SendingWaiter {
  key: string;
  askedAt: string;
  /** Absent on entries written before it existed: a minute after `askedAt`. */
  keepsPlaceUntil?: string;
}

/**
 * A PEC mailbox the body owns (docs/pec.md "Mailboxes in practice"). Passwords are stored
 * encrypted (AES-256-GCM, key PECTRACK_SECRET_KEY); the API never returns them.
 */
export interface Mailbox {
  id: string;
  tenant: Tenant;
  name: string;
  address: string;
  imapHost: string;
  imapPort: number;
  imapTls: boolean;
  /**
   * With `imapTls` false: log in even when the server offers no STARTTLS, the password then in
   * clear. False (the default) refuses such a server; see imap.ts.
   */
  imapAllowPlaintext: boolean;
  username: string;
  passwordEncrypted: string;
  folders: string[];
  smtpHost: string | null;
  smtpPort: number | null;
  smtpTls: boolean;
  /** As `imapAllowPlaintext`, for the submission server. */
  smtpAllowPlaintext: boolean;
  /** Submissions the provider takes in a minute (null: no limit); see intake/pacing.ts. */
  smtpMaxPerMinute?: number | null;
  /** When the submissions of the last minute went (ISO instants), oldest first. */
  smtpRecentSubmissions?: string[] | null;
  /** Keyed sends waiting for a slot, oldest first (intake/pacing.ts). */
  smtpWaiting?: SendingWaiter[] | null;
  /** The last "sync now" or change asked on any node; the watching session wakes on it. */
  syncRequestedAt?: Date | null;
  /** IMAP keyword set on a message after it is committed; null leaves the server untouched. */
  flagKeyword: string | null;
  enabled: boolean;
  healthStatus: MailboxHealthStatus;
  lastError: string | null;
  consecutiveFailures: number;
  lastSyncAt: Date | null;
  /** What the last pass could not read; null or empty when it read every folder. */
  folderProblems?: FolderProblem[] | null;
  createdAt: Date;
  updatedAt: Date;
}

export const MailboxSchema = new EntitySchema<Mailbox>({
  name: 'Mailbox',
  tableName: 'mailbox',
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    name: { type: 'string' },
    address: { type: 'string' },
    imapHost: { type: 'string' },
    imapPort: { type: 'integer' },
    imapTls: { type: 'boolean' },
    imapAllowPlaintext: { type: 'boolean', default: false },
    username: { type: 'string' },
    passwordEncrypted: { type: 'text' },
    folders: { type: 'json' },
    smtpHost: { type: 'string', nullable: true },
    smtpPort: { type: 'integer', nullable: true },
    smtpTls: { type: 'boolean' },
    smtpAllowPlaintext: { type: 'boolean', default: false },
    smtpMaxPerMinute: { type: 'integer', nullable: true },
    smtpRecentSubmissions: { type: 'json', nullable: true },
    smtpWaiting: { type: 'json', nullable: true },
    syncRequestedAt: { type: 'datetime', nullable: true },
    flagKeyword: { type: 'string', nullable: true },
    enabled: { type: 'boolean' },
    healthStatus: { type: 'string', length: 16 },
    lastError: { type: 'text', nullable: true },
    consecutiveFailures: { type: 'integer' },
    lastSyncAt: { type: 'datetime', nullable: true },
    folderProblems: { type: 'json', nullable: true },
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
  },
});

/**
 * How far one folder has been ingested. `uidValidity` is a string because IMAP allows
 * 32-bit unsigned values that a signed integer column would truncate on some databases.
 * Advanced in the same transaction as the Message rows it covers.
 */
export interface MailboxCheckpoint {
  id: number;
  tenant: Tenant;
  mailboxId: string;
  folder: string;
  uidValidity: string;
  lastUid: number;
  /** The IMAP account the position was read on (imapAccountOf); null when written before it was kept. */
  account?: string | null;
  /** The UID the folder is held at: listed by the server, never returned whole (folder-sync.ts). */
  withheldUid?: number | null;
  /** Passes that stopped at it so far. */
  withheldPasses?: number | null;
  /** When the first of them did. */
  withheldSince?: Date | null;
  updatedAt: Date;
}

export const MailboxCheckpointSchema = new EntitySchema<MailboxCheckpoint>({
  name: 'MailboxCheckpoint',
  tableName: 'mailbox_checkpoint',
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    mailboxId: { type: 'string', length: 64 },
    folder: { type: 'string' },
    uidValidity: { type: 'string', length: 20 },
    lastUid: { type: 'integer' },
    account: { type: 'text', nullable: true },
    withheldUid: { type: 'integer', nullable: true },
    withheldPasses: { type: 'integer', nullable: true },
    withheldSince: { type: 'datetime', nullable: true },
    updatedAt: { type: 'datetime' },
  },
});
export const MAILBOX_ENTITIES = [MailboxSchema, MailboxCheckpointSchema];
