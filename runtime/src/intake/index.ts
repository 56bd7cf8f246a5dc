/** IMAP intake and certified sending for the runtime (issue 3, ARCHITECTURE §2). */
import { parsePec, loadTrustAnchors } from '@pectrack/connector-pec';
import type { BlobStore } from '../store/blobs.js';
import type { Orm } from '../store/orm.js';
import { DEFAULT_LIMITS, type IntakeContext, type IntakeLimits, type IntakeLogger } from './context.js';
import type { AppliedReceipt } from './receipts.js';

export { DEFAULT_LIMITS, type IntakeContext, type IntakeLimits, type IntakeLogger } from './context.js';
export { runMailboxSession, Wakeup, type SessionOptions, type SessionSummary } from './session.js';
export { syncFolder, type FolderSyncResult } from './folder-sync.js';
export { INTAKE_OUTBOX_KIND, recordBatch } from './record.js';
export type { AppliedReceipt } from './receipts.js';
export { encryptSecret, decryptSecret, parseSecretKey, SecretKeyError } from './secrets.js';

export interface IntakeOptions {
  orm: Orm;
  blobs: BlobStore;
  secretKey: Buffer;
  /** Certificates provider signatures must chain to (PEM text or DER); none: every signature is untrusted. */
  trustAnchors?: ReadonlyArray<string | Uint8Array>;
  publishReceipt?: (tenantId: string, receipt: AppliedReceipt) => Promise<void>;
  log?: IntakeLogger;
  limits?: Partial<IntakeLimits>;
  now?: () => Date;
}

const SILENT: IntakeLogger = { info: () => undefined, warn: () => undefined };

export function createIntakeContext(options: IntakeOptions): IntakeContext {
  const anchors = options.trustAnchors ? loadTrustAnchors(options.trustAnchors) : undefined;
  return {
    orm: options.orm,
    blobs: options.blobs,
    secretKey: options.secretKey,
    parse: (raw) => parsePec(raw, anchors ? { trustAnchors: anchors } : {}),
    now: options.now ?? (() => new Date()),
    publishReceipt: options.publishReceipt ?? (async () => undefined),
    log: options.log ?? SILENT,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  };
}
