/**
 * `npm run bench:message-list`: what a page of the messages list costs on PostgreSQL with
 * BENCH_LIST_MESSAGES (default 300,000) messages in one tenant, through the service the API
 * calls, and a page of the message feed (intake/feed.ts), with the indexes and then, in the
 * same run, without them (dropped). One line per query; the plan PostgreSQL chose is printed
 * beside the list's times.
 *
 * PECTRACK_BENCH_PG_URL names a server where a database may be created (default: the local
 * one, as the tests use it).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIntakeContext } from '../intake/index.js';
import { messageFeed } from '../intake/feed.js';
import { messageQueries, type MessageFilter } from '../intake/messages.js';
import { createRuntime } from '../runtime.js';
import { FileBlobStore } from '../store/blobs.js';
import { knexOf } from '../store/orm.js';
import { withPgDatabase } from './pg-database.js';

const MESSAGES = Number(process.env.BENCH_LIST_MESSAGES ?? 300_000);
const ROUNDS = 20;
const LIST_INDEXES = [
  'message_tenant_id_received_at_index',
  'message_lower_sender_index',
  'message_tenant_id_provider_id_index',
  'message_tenant_id_commit_xid_id_index',
];

const QUERIES: Record<string, MessageFilter> = {
  'a page of the list': { limit: 50 },
  'a later page': { limit: 50, offset: 500 },
  "one sender's messages": { sender: 'Cittadino42@mittente.pec.test' },
  'a message by its provider id': { providerId: 'opec.123456@pec.test' },
};

async function main(): Promise<void> {
  await withPgDatabase('pectrack_bench_list', measure);
}

async function measure(url: string): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pectrack-bench-list-'));
  const runtime = await createRuntime({
    dataDir,
    database: { kind: 'postgresql', url },
    port: 0,
    logLevel: 'silent',
    tenant: 'default',
  });
  try {
    const knex = knexOf(runtime.orm);
    await fill(knex);
    const ctx = createIntakeContext({
      orm: runtime.orm,
      blobs: new FileBlobStore(join(dataDir, 'blobs')),
      secretKey: randomBytes(32),
    });
    const messages = messageQueries(ctx);
    const feed = messageFeed(ctx);
    // A cursor halfway: the feed's later pages start from one.
    let halfway: string | null = null;
    for (let page = 0; page < MESSAGES / 2 / 500; page++)
      halfway = (await feed.read('default', { after: halfway ?? undefined, limit: 500 })).cursor;
    const timed = async (run: () => Promise<unknown>) => {
      await run();
      const started = performance.now();
      for (let round = 0; round < ROUNDS; round++) await run();
      return ((performance.now() - started) / ROUNDS).toFixed(2);
    };
    for (const indexed of [true, false]) {
      if (!indexed) for (const index of LIST_INDEXES) await knex.raw(`drop index ${index}`);
      await knex.raw('analyze message');
      const label = indexed ? 'with' : 'without';
      for (const [what, filter] of Object.entries(QUERIES)) {
        const ms = await timed(() => messages.list('default', filter));
        process.stdout.write(
          `bench:message-list ${label} the list indexes, ${what}: ${ms} ms (${await planOf(knex, filter)})\n`,
        );
      }
      for (const [what, after] of [
        ['the feed, first page of 100', undefined],
        ['the feed, a page of 100 halfway', halfway ?? undefined],
      ] as const)
        process.stdout.write(
          `bench:message-list ${label} the list indexes, ${what}: ${await timed(() => feed.read('default', { after, limit: 100 }))} ms\n`,
        );
    }
    await ctx.close();
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** MESSAGES incoming messages, 5 mailboxes, 20,000 senders, one a second back from now. */
async function fill(knex: ReturnType<typeof knexOf>): Promise<void> {
  const started = performance.now();
  await knex.raw(
    `insert into message (id, tenant_id, direction, mailbox_id, folder, uid, dedupe_key, kind,
       provider_id, original_message_id, subject, sender, recipients, sha256, size,
       signature_status, summary, problems, received_at)
     select md5(g::text), 'default', 'in', 'mailbox-' || (g % 5), 'INBOX', g, 'in:' || g,
       'posta-certificata', 'opec.' || g || '@pec.test', '<' || g || '@mittente.pec.test>',
       'Istanza numero ' || g, 'cittadino' || (g % 20000) || '@mittente.pec.test', '[]',
       md5(g::text) || md5(g::text), 20000, 'valid',
       jsonb_build_object('attachments', jsonb_build_array('istanza-' || g || '.pdf')), '[]',
       now() - make_interval(secs => g)
     from generate_series(1, ?) g`,
    [MESSAGES],
  );
  process.stdout.write(
    `bench:message-list ${MESSAGES} messages stored in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

/** The plan's nodes PostgreSQL chose for the list's query (as written by hand), on one line. */
async function planOf(knex: ReturnType<typeof knexOf>, filter: MessageFilter): Promise<string> {
  const condition =
    filter.sender !== undefined
      ? `and lower(sender) = '${filter.sender.toLowerCase()}'`
      : filter.providerId !== undefined
        ? `and provider_id = '${filter.providerId}'`
        : '';
  const sql = `select * from message where tenant_id = 'default' ${condition} order by received_at desc, uid desc, id asc limit 50 offset ${filter.offset ?? 0}`;
  const { rows } = (await knex.raw(`explain ${sql}`)) as { rows: { 'QUERY PLAN': string }[] };
  return rows
    .map((r) => r['QUERY PLAN'])
    .filter((line, n) => n === 0 || line.includes('->'))
    .map((line) =>
      line
        .trim()
        .replace(/^->\s*/, '')
        .replace(/\s+\(cost.*$/, ''),
    )
    .join(' > ');
}

await main();
