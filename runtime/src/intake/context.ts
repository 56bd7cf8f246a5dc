/** What the intake needs from the runtime, injected so tests and the runtime wire the same code. */
import type { ParseRequestOptions, PecEnvelope } from '@pectrack/connector-pec';
import type { BlobStore } from '../store/blobs.js';
import type { Orm } from '../store/orm.js';
import type { AppliedReceipt } from './receipts.js';

export interface IntakeLogger {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
}

export interface IntakeContext {
  orm: Orm;
  blobs: BlobStore;
  /** AES-256-GCM key for mailbox passwords (PECTRACK_SECRET_KEY). */
  secretKey: Buffer;
  /** `reread`: the bytes may move to a parse worker, which reads them again should it die. */
  parse(raw: Buffer, options?: ParseRequestOptions): Promise<PecEnvelope> | PecEnvelope;
  /** Stops the parse workers, if any. */
  close(): Promise<void>;
  now(): Date;
  /** Called after the commit that applied a receipt: publishes the `pec.receipt` BPMN message. */
  publishReceipt(tenantId: string, receipt: AppliedReceipt): Promise<void>;
  log: IntakeLogger;
  limits: IntakeLimits;
}

export interface IntakeLimits {
  /** Messages fetched and committed together. */
  batchMessages: number;
  /** Bytes fetched together; a larger message is fetched alone. */
  batchBytes: number;
  /** UIDs listed (with their sizes) per FETCH before their messages are fetched (listing.ts). */
  listWindowUids: number;
  /** How often a watched mailbox is polled by UID even when IDLE is quiet. */
  pollMs: number;
  /** First reconnect delay; it doubles per consecutive failure up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** How long a connection test may take before it reports that the server did not answer. */
  connectionTestMs: number;
  /**
   * The longest a send told to wait for its mailbox's pace waits before it asks again (a limit
   * raised meanwhile lets it go sooner).
   */
  pacingRecheckMs: number;
}

export const DEFAULT_LIMITS: IntakeLimits = {
  batchMessages: 200,
  batchBytes: 16 * 1024 * 1024,
  listWindowUids: 2_000,
  pollMs: 60_000,
  backoffMs: 1_000,
  maxBackoffMs: 5 * 60_000,
  connectionTestMs: 20_000,
  pacingRecheckMs: 10_000,
};
