/**
 * What the intake suites share: a private Dovecot (skipped loudly when missing, required in
 * CI), a runtime on a fresh database, the intake wired to it, and PEC fixtures signed by a
 * test CA.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import {
  dovecotUnavailableReason,
  startDovecot,
  type DovecotServer,
} from '@pectrack/connector-pec/testkit';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../../src/runtime.js';
import {
  createIntakeContext,
  type IntakeContext,
  type IntakeLimits,
} from '../../../src/intake/index.js';
import { mailboxServices, type MailboxServices } from '../../../src/intake/mailboxes.js';
import { FileBlobStore } from '../../../src/store/blobs.js';
import { DEFAULT_RECEIPT_TTL_MS } from '../../../src/config.js';
import { receiptPublication } from '../../../src/intake/setup.js';
import { servicesRequired, type TestDatabase } from '../../support/databases.js';
import type { PecFixtures } from './fixtures.js';

export const dovecotMissing = dovecotUnavailableReason();
if (dovecotMissing) {
  if (servicesRequired())
    throw new Error(`${dovecotMissing}; CI=true or PECTRACK_REQUIRE_SERVICES=1 requires Dovecot`);
  console.warn(
    `\n!!! SKIPPING the IMAP intake suites: ${dovecotMissing}. Install dovecot-imapd to run them.\n`,
  );
}

export const TENANT = 'default';
export const PASSWORD = 'segreto';

export interface IntakeHarness {
  runtime: Runtime;
  dovecot: DovecotServer;
  ctx: IntakeContext;
  mailboxes: MailboxServices;
  secretKey: Buffer;
  blobDir: string;
  /** Creates a Dovecot login and the Mailbox row watching it. */
  addMailbox(
    address: string,
    options?: {
      folders?: string[];
      flagKeyword?: string | null;
      smtp?: { host: string; port: number };
    },
  ): Promise<string>;
  imap(address: string): Promise<ImapFlow>;
  append(address: string, messages: Buffer[], folder?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(
  database: TestDatabase,
  fixtures: PecFixtures,
  limits: Partial<IntakeLimits> = {},
  runtimeOptions: RuntimeOptions = {},
): Promise<IntakeHarness> {
  const created = await database.create();
  const runtime = await createRuntime(created.config, runtimeOptions);
  const dovecot = await startDovecot();
  const blobDir = await mkdtemp(join(tmpdir(), 'pectrack-blobs-'));
  const secretKey = randomBytes(32);
  const ctx = createIntakeContext({
    orm: runtime.orm,
    blobs: new FileBlobStore(blobDir),
    secretKey,
    trustAnchors: [fixtures.ca.certificatePem],
    parseWorkers: 1,
    limits: { backoffMs: 100, maxBackoffMs: 1_000, ...limits },
    receipts: receiptPublication(runtime.services, DEFAULT_RECEIPT_TTL_MS),
  });
  const mailboxes = mailboxServices(ctx);
  const imap = async (address: string) => {
    const client = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      auth: { user: address, pass: PASSWORD },
      logger: false,
    });
    await client.connect();
    return client;
  };
  return {
    runtime,
    dovecot,
    ctx,
    mailboxes,
    secretKey,
    blobDir,
    async addMailbox(address, options = {}) {
      await dovecot.addUser({ user: address, password: PASSWORD });
      const view = await mailboxes.create(TENANT, {
        name: address,
        address,
        imap: { host: dovecot.host, port: dovecot.port, tls: false, allowPlaintext: true },
        username: address,
        password: PASSWORD,
        folders: options.folders ?? ['INBOX'],
        flagKeyword: options.flagKeyword ?? null,
        smtp: options.smtp ? { ...options.smtp, tls: false, allowPlaintext: true } : null,
      });
      return view.id;
    },
    imap,
    append: (address, messages, folder = 'INBOX') => dovecot.deliver(address, messages, folder),
    async close() {
      await ctx.close();
      await runtime.stop();
      await dovecot.close();
      await rm(blobDir, { recursive: true, force: true });
      await created.drop();
    },
  };
}
