/**
 * The intake as `pectrack serve` wires it: configuration (key file, trust anchors from a PEM
 * file), the runtime's own mailbox-sync job, and receipts published to waiting instances.
 */
import { stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startDovecot, type DovecotServer } from '@pectrack/connector-pec/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { testDatabases } from '../support/databases.js';
import { eventually } from '../support/wait.js';
import { countIntakeEntries, countMessages } from './support/counts.js';
import { pecFixtures } from './support/fixtures.js';
import { dovecotMissing, PASSWORD, TENANT } from './support/services.js';

const fixtures = pecFixtures();
const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const ADDRESS = 'protocollo@comune.pec.test';
const RECEIVED = new Date('2026-03-02T08:15:00Z');

/** What the runtime's intake reported, as `pectrack serve`'s logger would receive it. */
const warnings: { data: object; message: string }[] = [];
const log = {
  info: () => undefined,
  warn: (data: object, message: string) => void warnings.push({ data, message }),
};

describe.skipIf(Boolean(dovecotMissing))('intake wired into the runtime', () => {
  let runtime: Runtime;
  let dovecot: DovecotServer;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await sqlite.create();
    drop = created.drop;
    const anchors = join(created.config.dataDir, 'anchors.pem');
    await writeFile(anchors, fixtures.ca.certificatePem);
    runtime = await createRuntime(
      {
        ...created.config,
        intake: {
          secretKey: undefined,
          trustAnchorsFile: anchors,
          blobDir: join(created.config.dataDir, 'blobs'),
        },
      },
      { scheduler: { processEveryMs: 200, outboxPollMs: 200 }, log },
    );
    dovecot = await startDovecot();
    await dovecot.addUser({ user: ADDRESS, password: PASSWORD });
    await runtime.start();
  });
  afterAll(async () => {
    await runtime?.stop();
    await dovecot?.close();
    await drop?.();
  });

  it('keeps a private key file when PECTRACK_SECRET_KEY is not set', async () => {
    const key = await stat(join(runtime.config.dataDir, 'secret.key'));
    expect(key.mode & 0o777).toBe(0o600);
  });

  it('watches a mailbox created through the runtime and checks signatures against the configured anchors', async () => {
    // A backlog: the mailbox received these months before its first sync.
    await dovecot.deliver(
      ADDRESS,
      [0, 1, 2].map((n) => fixtures.envelope(n, [ADDRESS]).raw),
      'INBOX',
      { receivedAt: RECEIVED },
    );
    const mailbox = await runtime.intake.createMailbox(TENANT, {
      name: 'Protocollo',
      address: ADDRESS,
      imap: { host: dovecot.host, port: dovecot.port, tls: false, allowPlaintext: true },
      username: ADDRESS,
      password: PASSWORD,
    });
    await eventually(
      'the runtime job to ingest 3 messages',
      async () => (await countMessages(runtime.orm, { mailbox_id: mailbox.id })) === 3,
      30_000,
    );
    expect(await countIntakeEntries(runtime.orm)).toBe(3);
    const listed = await runtime.intake.messages.list(TENANT, { mailboxId: mailbox.id });
    expect(listed.map((m) => m.signatureStatus)).toEqual(['valid', 'valid', 'valid']);
    // Dated when the mailbox received them, not when they were synced.
    expect(listed.map((m) => m.receivedAt)).toEqual(Array(3).fill(RECEIVED.toISOString()));
    expect(listed.map((m) => m.uid)).toEqual([3, 2, 1]);
    const before = await runtime.intake.messages.list(TENANT, {
      mailboxId: mailbox.id,
      receivedBefore: '2026-04-01T00:00:00Z',
    });
    expect(before).toHaveLength(3);
  });

  it("reports a mailbox's failures to the runtime's logger", async () => {
    // A port nothing listens on any more: the session fails to connect and says so.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const mailbox = await runtime.intake.createMailbox(TENANT, {
      name: 'Ragioneria',
      address: 'ragioneria@comune.pec.test',
      imap: { host: '127.0.0.1', port, tls: false, allowPlaintext: true },
      username: 'ragioneria@comune.pec.test',
      password: PASSWORD,
    });
    await eventually(
      'a warning about the mailbox',
      async () => warnings.some((w) => (w.data as { mailboxId?: string }).mailboxId === mailbox.id),
      30_000,
    );
    await runtime.intake.updateMailbox(TENANT, mailbox.id, { enabled: false });
  });
});
