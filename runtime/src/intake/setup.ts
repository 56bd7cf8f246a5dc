/**
 * Builds the intake context a runtime uses from its configuration: the mailbox password key,
 * the signature trust anchors, the blob store, and receipts published as `pec.receipt` BPMN
 * messages (context.ts, ReceiptPublication).
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type IntakeSettings } from '../config.js';
import type { Services } from '../services/types.js';
import { FileBlobStore } from '../store/blobs.js';
import type { Orm } from '../store/orm.js';
import type { IntakeContext, IntakeLogger, ReceiptPublication } from './context.js';
import { createIntakeContext } from './index.js';
import { parseSecretKey } from './secrets.js';

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
    ...(settings.mailCaFile && { mailTrust: await mailTrustOf(settings.mailCaFile) }),
    trustAnchors: settings.trustAnchorsFile
      ? [await readFile(settings.trustAnchorsFile, 'utf8')]
      : undefined,
    parseWorkers: settings.parseWorkers,
    log,
    receipts: receiptPublication(services, settings.receiptTimeToLiveMs),
  });
}

/** Receipts kept for `timeToLiveMs` and delivered by the runtime's message services. */
export function receiptPublication(services: Services, timeToLiveMs: number): ReceiptPublication {
  return {
    timeToLiveMs,
    deliver: (tenantId, keptIds) =>
      services.messages.deliverKept(
        { tenantId, userId: 'system', username: 'system', roles: ['admin'] },
        keptIds,
      ),
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

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The authorities of PECTRACK_MAIL_CA, each checked at start: a file that holds none, or a
 * damaged one, would otherwise show up only as every mailbox's "certificate not trusted".
 */
export async function mailTrustOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new ConfigError(
      'PECTRACK_MAIL_CA',
      `names ${file}, which cannot be read: ${error.message}`,
    );
  });
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0)
    throw new ConfigError('PECTRACK_MAIL_CA', `names ${file}, which holds no PEM certificate`);
  certificates.forEach((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch (error) {
      throw new ConfigError(
        'PECTRACK_MAIL_CA',
        `names ${file}, whose certificate ${index + 1} cannot be read: ${(error as Error).message}`,
      );
    }
  });
  return certificates;
}
