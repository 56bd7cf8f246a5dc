/**
 * Two runtime nodes on one PostgreSQL database in one process, as production runs several:
 * each its own ORM, Agenda and intake, sharing the database, the data directory (the mailbox
 * password key) and one private Dovecot.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { startDovecot, type DovecotServer } from '@pectrack/connector-pec/testkit';
import type { RuntimeConfig } from '../../../src/config.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../../src/runtime.js';
import { knexOf } from '../../../src/store/orm.js';
import { testDatabases } from '../../support/databases.js';
import type { PecFixtures } from './fixtures.js';
import { PASSWORD, TENANT } from './services.js';

export const postgres = (await testDatabases()).find((d) => d.kind === 'postgresql')!;

export interface Cluster {
  config: RuntimeConfig;
  a: Runtime;
  b: Runtime;
  dovecot: DovecotServer;
  /** A Dovecot login and a mailbox row for it, created through `node`'s intake. */
  addMailbox(
    node: Runtime,
    address: string,
    options?: { enabled?: boolean; folders?: string[] },
  ): Promise<string>;
  /** The nodes whose intake runs a session for `mailboxId` right now. */
  sessionsOf(mailboxId: string): ('a' | 'b')[];
  /** The mailbox-sync job rows of `mailboxId`. */
  syncJobs(
    mailboxId: string,
  ): Promise<{ id: string; next_run_at: Date | null; locked_at: Date | null }[]>;
  close(): Promise<void>;
}

export async function startCluster(
  fixtures: PecFixtures,
  options: RuntimeOptions = {},
): Promise<Cluster> {
  const created = await postgres.create();
  const anchors = join(created.config.dataDir, 'anchors.pem');
  await writeFile(anchors, fixtures.ca.certificatePem);
  const config: RuntimeConfig = {
    ...created.config,
    intake: {
      // Set on every node of a cluster (README): both decrypt the mailbox passwords.
      secretKey: randomBytes(32).toString('hex'),
      trustAnchorsFile: anchors,
      blobDir: join(created.config.dataDir, 'blobs'),
    },
  };
  const nodeOptions: RuntimeOptions = {
    ...options,
    scheduler: { processEveryMs: 200, outboxPollMs: 200, ...options.scheduler },
  };
  const a = await createRuntime(config, nodeOptions);
  const b = await createRuntime(config, nodeOptions);
  const dovecot = await startDovecot();
  await a.start();
  await b.start();
  const stopped = new Set<Runtime>();
  const running = (node: Runtime) =>
    (node.intake.jobs as unknown as { running: Map<string, unknown> } | null)?.running;
  return {
    config,
    a,
    b,
    dovecot,
    async addMailbox(node, address, { enabled = true, folders = ['INBOX'] } = {}) {
      await dovecot.addUser({ user: address, password: PASSWORD });
      const view = await node.intake.createMailbox(TENANT, {
        name: address,
        address,
        imap: { host: dovecot.host, port: dovecot.port, tls: false, allowPlaintext: true },
        username: address,
        password: PASSWORD,
        folders,
        enabled,
      });
      return view.id;
    },
    sessionsOf(mailboxId) {
      const nodes: ('a' | 'b')[] = [];
      if (running(a)?.has(mailboxId)) nodes.push('a');
      if (running(b)?.has(mailboxId)) nodes.push('b');
      return nodes;
    },
    async syncJobs(mailboxId) {
      const node = stopped.has(a) ? b : a;
      return knexOf(node.orm)('agenda_jobs')
        .where({ name: 'mailbox-sync' })
        .andWhereRaw(`data->>'mailboxId' = ?`, [mailboxId])
        .select('id', 'next_run_at', 'locked_at');
    },
    async close() {
      for (const node of [a, b]) if (!stopped.has(node)) await node.stop().catch(() => undefined);
      await dovecot.close();
      await created.drop();
    },
    // Exposed for a test that stops a node on purpose.
    ...{ markStopped: (node: Runtime) => stopped.add(node) },
  } as Cluster & { markStopped(node: Runtime): void };
}

export async function stopNode(cluster: Cluster, node: Runtime): Promise<void> {
  (cluster as Cluster & { markStopped(node: Runtime): void }).markStopped(node);
  await node.stop();
}

export { TENANT };
