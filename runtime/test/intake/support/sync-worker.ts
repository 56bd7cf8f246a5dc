/**
 * A runtime process that syncs one mailbox once and exits: the crash test kills it with
 * SIGKILL mid-sync and starts another. Configured by PECTRACK_SYNC_WORKER (JSON).
 */
import { createIntakeContext, runMailboxSession } from '../../../src/intake/index.js';
import { FileBlobStore } from '../../../src/store/blobs.js';
import { openOrm } from '../../../src/store/orm.js';
import type { DatabaseConfig } from '../../../src/config.js';

export interface SyncWorkerConfig {
  database: DatabaseConfig;
  blobDir: string;
  secretKeyHex: string;
  trustAnchorPem: string;
  tenantId: string;
  mailboxId: string;
  batchMessages: number;
}

const config = JSON.parse(process.env.PECTRACK_SYNC_WORKER ?? '{}') as SyncWorkerConfig;
const orm = await openOrm(config.database);
const ctx = createIntakeContext({
  orm,
  blobs: new FileBlobStore(config.blobDir),
  secretKey: Buffer.from(config.secretKeyHex, 'hex'),
  trustAnchors: [config.trustAnchorPem],
  limits: { batchMessages: config.batchMessages },
  // As the runtime does: the process killed mid-sync parses on a worker thread.
  parseWorkers: 1,
});
const summary = await runMailboxSession(ctx, config.tenantId, config.mailboxId, { once: true });
process.stdout.write(`${JSON.stringify(summary)}\n`);
await ctx.close();
await orm.close();
