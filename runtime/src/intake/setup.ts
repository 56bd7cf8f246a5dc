/**
 * Builds the intake context a runtime uses from its configuration: the mailbox password key,
 * the signature trust anchors, the blob store, and receipts published as `pec.receipt` BPMN
 * messages (the correlation key is the Message-ID of the message we sent), kept for a while
 * when their process does not wait for them yet.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IntakeSettings } from '../config.js';
import type { Services } from '../services/types.js';
import { FileBlobStore } from '../store/blobs.js';
import type { Orm } from '../store/orm.js';
import type { IntakeContext, IntakeLogger } from './context.js';
import { createIntakeContext } from './index.js';
import { parseSecretKey } from './secrets.js';

export const RECEIPT_MESSAGE = 'pec.receipt';

export async function intakeContextFor(
  settings: IntakeSettings,
  dataDir: string,
  orm: Orm,
  services: Services,
  log?: IntakeLogger,
): Promise<IntakeContext> {
  return createIntakeContext({
    orm,
    blobs: new FileBlobStore(settings.blobDir, {
      syncCommand: settings.blobSync === 'filesystem',
    }),
    secretKey: await secretKeyOf(settings, dataDir, log),
    trustAnchors: settings.trustAnchorsFile
      ? [await readFile(settings.trustAnchorsFile, 'utf8')]
      : undefined,
    parseWorkers: settings.parseWorkers,
    log,
    publishReceipt: receiptPublisher(services, settings.receiptTimeToLiveMs),
  });
}

/**
 * Publishes an applied receipt to the process that sent the message, keeping it for
 * `timeToLiveMs` when that process does not wait for it yet: the provider's acceptance often
 * arrives while the send task is still completing.
 */
export function receiptPublisher(
  services: Services,
  timeToLiveMs: number,
): IntakeContext['publishReceipt'] {
  return async (tenantId, receipt) => {
    await services.messages.correlate(
      { tenantId, userId: 'system', username: 'system', roles: ['admin'] },
      {
        name: RECEIPT_MESSAGE,
        correlationKey: receipt.sentMessageId,
        variables: { receipt: { ...receipt } },
        timeToLiveMs,
      },
    );
  };
}

/**
 * An embedded install has no one to set PECTRACK_SECRET_KEY: it gets a key file next to its
 * database, created once. Clustered installs must set the variable so every node shares the key.
 */
async function secretKeyOf(
  settings: IntakeSettings,
  dataDir: string,
  log?: IntakeLogger,
): Promise<Buffer> {
  if (settings.secretKey) return parseSecretKey(settings.secretKey);
  const file = join(dataDir, 'secret.key');
  try {
    return parseSecretKey((await readFile(file, 'utf8')).trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, key.toString('hex'), { mode: 0o600, flag: 'wx' });
  log?.warn({ file }, 'PECTRACK_SECRET_KEY is not set: created a mailbox password key file');
  return key;
}
