/** What the intake needs from the runtime, injected so tests and the runtime wire the same code. */
import type { ParseRequestOptions, PecEnvelope } from '@pectrack/connector-pec';
import type { BlobStore } from '../store/blobs.js';
import type { Orm } from '../store/orm.js';

export interface IntakeLogger {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
}

export interface IntakeContext {
  orm: Orm;
  blobs: BlobStore;
  /** AES-256-GCM key for mailbox passwords (PECTRACK_SECRET_KEY). */
  secretKey: Buffer;
  /**
   * PEM certificates a mail server's TLS may chain to besides the system's (PECTRACK_MAIL_CA):
   * the body's own authority for an internal relay. Absent: the system's only.
   */
  mailTrust?: string[];
  /** `reread`: the bytes may move to a parse worker, which reads them again should it die. */
  parse(raw: Buffer, options?: ParseRequestOptions): Promise<PecEnvelope> | PecEnvelope;
  /** Stops the parse workers, if any. */
  close(): Promise<void>;
  now(): Date;
  /** How applied receipts reach the processes that sent the messages (`pec.receipt`). */
  receipts: ReceiptPublication;
  log: IntakeLogger;
  limits: IntakeLimits;
}

/**
 * A receipt that moved a delivery state is kept as a `pec.receipt` BPMN message (correlation key:
 * the sent Message-ID) in the same transaction that applies it, so neither a crash after the
 * commit nor a process that does not wait yet loses it; after the commit it goes to the process
 * waiting for it, if one does.
 */
export interface ReceiptPublication {
  /** How long a receipt no process waits for yet is kept for the first that does. */
  timeToLiveMs: number;
  /** After the commit: hands the kept receipts to the processes already waiting for them. */
  deliver(tenantId: string, keptIds: readonly number[]): Promise<void>;
}

/** The BPMN message a receipt is published as. */
export const RECEIPT_MESSAGE = 'pec.receipt';

export interface IntakeLimits {
  /** Messages fetched and committed together. */
  batchMessages: number;
  /** Bytes fetched together; a larger message is fetched alone. */
  batchBytes: number;
  /** UIDs listed (with their sizes) per FETCH before their messages are fetched (listing.ts). */
  listWindowUids: number;
  /** How often a watched mailbox is polled by UID even when IDLE is quiet. */
  pollMs: number;
  /**
   * A message the server lists but does not return whole holds its folder (health names it)
   * until it has done so for this many passes and this long: then it is recorded without its
   * content (withheld.ts) and the folder goes on. A server still settling a message never
   * takes that long; a damaged one never sends it.
   */
  withheldPasses: number;
  withheldMs: number;
  /** First reconnect delay; it doubles per consecutive failure up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** How long a connection test may take before it reports that the server did not answer. */
  connectionTestMs: number;
  /**
   * The longest a send told to wait waits before it asks again: for its mailbox's pace (a limit
   * raised meanwhile lets it go sooner), or for another call submitting under its key.
   */
  pacingRecheckMs: number;
  /**
   * How long a call submitting an outgoing message holds it against repeats under its key. Past
   * it, the holder is taken to have died before recording the outcome, and a repeat submits the
   * message again. Above the SMTP transport's worst case (three 60 s timeouts).
   */
  submissionLeaseMs: number;
  /**
   * The least a send refused for now before its data went out (a 4xx: a provider throttling,
   * InfoCert for a minute) waits before its next try; the connector's backoff alone spent every
   * try within the minute. Each try still counts towards the incident.
   */
  throttleRetryMs: number;
}

export const DEFAULT_LIMITS: IntakeLimits = {
  batchMessages: 200,
  batchBytes: 16 * 1024 * 1024,
  listWindowUids: 2_000,
  pollMs: 60_000,
  withheldPasses: 3,
  withheldMs: 15 * 60_000,
  backoffMs: 1_000,
  maxBackoffMs: 5 * 60_000,
  connectionTestMs: 20_000,
  pacingRecheckMs: 10_000,
  submissionLeaseMs: 10 * 60_000,
  throttleRetryMs: 60_000,
};
