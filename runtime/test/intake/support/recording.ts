/**
 * Messages stored as intake stores them, without IMAP: a runtime on a fresh database, a mailbox,
 * and intake contexts with and without the test CA as trust anchor (for the suites that read
 * stored messages again, reparse.test.ts and rem.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RECEIPT_TTL_MS } from '../../../src/config.js';
import { factsOf, unparseableFacts, type MessageFacts } from '../../../src/intake/facts.js';
import { createIntakeContext, type IntakeContext } from '../../../src/intake/index.js';
import { mailboxServices } from '../../../src/intake/mailboxes.js';
import { recordBatch } from '../../../src/intake/record.js';
import { receiptPublication } from '../../../src/intake/setup.js';
import { createRuntime, type Runtime } from '../../../src/runtime.js';
import { FileBlobStore } from '../../../src/store/blobs.js';
import { MessageSchema } from '../../../src/store/entities/message.js';
import { tenantFork } from '../../../src/store/orm.js';
import type { TestDatabase } from '../../support/databases.js';
import type { PecFixtures } from './fixtures.js';
import { TENANT } from './services.js';

export const OFFICE = 'protocollo@comune.pec.test';

/** A runtime with two intake contexts over one blob store: before and after the anchors were set. */
export interface Setting {
  runtime: Runtime;
  blobDir: string;
  /** As intake ran first: no trust anchors configured. */
  withoutAnchors: IntakeContext;
  /** As it runs once the provider's CA is configured. */
  withAnchors: IntakeContext;
  mailboxId: string;
  close(): Promise<void>;
}

export async function startSetting(
  database: TestDatabase,
  fixtures: PecFixtures,
): Promise<Setting> {
  const created = await database.create();
  const runtime = await createRuntime(created.config);
  const blobDir = await mkdtemp(join(tmpdir(), 'pectrack-reparse-'));
  const blobs = new FileBlobStore(blobDir);
  const context = (trustAnchors: string[]) =>
    createIntakeContext({
      orm: runtime.orm,
      blobs,
      secretKey: randomBytes(32),
      trustAnchors,
      parseWorkers: 0,
      receipts: receiptPublication(runtime.services, DEFAULT_RECEIPT_TTL_MS),
    });
  const withoutAnchors = context([]);
  const withAnchors = context([fixtures.ca.certificatePem]);
  const mailbox = await mailboxServices(withAnchors).create(TENANT, {
    name: 'Protocollo',
    address: OFFICE,
    imap: { host: '127.0.0.1', port: 143, tls: false, allowPlaintext: true },
    username: OFFICE,
    password: 'segreto',
  });
  return {
    runtime,
    blobDir,
    withoutAnchors,
    withAnchors,
    mailboxId: mailbox.id,
    async close() {
      await withoutAnchors.close();
      await withAnchors.close();
      await runtime.stop();
      await rm(blobDir, { recursive: true, force: true });
      await created.drop();
    },
  };
}

let nextUid = 1;

/** A UID no other stored message of the suite has. */
export const freshUid = () => nextUid++;

/** Stores `raw` as intake would, with the facts `read` makes of it; returns the row id. */
/** Where `store` records: a setting, or any runtime with an intake context and a mailbox. */
export type Recorder = Pick<Setting, 'runtime' | 'withAnchors' | 'mailboxId'>;

export async function store(
  s: Recorder,
  raw: Buffer,
  read: (sha256: string) => Promise<{ facts: MessageFacts; event: unknown }>,
  mailboxId = s.mailboxId,
): Promise<string> {
  const stored = await s.withAnchors.blobs.put(raw);
  const { facts, event } = await read(stored.sha256);
  const uid = freshUid();
  await recordBatch(
    s.runtime.orm,
    TENANT,
    { mailboxId, folder: 'INBOX', uidValidity: '1', lastUid: uid },
    [{ uid, ...stored, facts, event: event as never }],
    new Date(),
    { receiptTimeToLiveMs: DEFAULT_RECEIPT_TTL_MS },
  );
  const row = await rowBySha(s.runtime, stored.sha256, mailboxId);
  return row.id;
}

export async function rowBySha(runtime: Runtime, sha256: string, mailboxId: string) {
  return tenantFork(runtime.orm, TENANT).findOneOrFail(MessageSchema, { sha256, mailboxId });
}

export const readBy = (ctx: IntakeContext, raw: Buffer) => async (sha256: string) => {
  const envelope = await ctx.parse(raw);
  return { facts: factsOf(envelope, sha256), event: envelope.event };
};

/** What intake stores when the parse worker dies on a message: kept, read as nothing. */
export const parserFailed = async (sha256: string) => ({
  facts: unparseableFacts(sha256, 'parse worker exited with code 1'),
  event: null,
});
