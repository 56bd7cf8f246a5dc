/**
 * Ingests one folder: every UID above the checkpoint, listed a window at a time (listing.ts) and
 * fetched in batches. Each batch is fetched, written to the blob store and parsed while earlier
 * batches commit, and is committed with the checkpoint in one transaction (record.ts). Only
 * then is the optional keyword set on the server; nothing is ever deleted or moved.
 */
import type { ImapFlow, MailboxObject } from 'imapflow';
import {
  ParsePoolClosedError,
  type ParseRequestOptions,
  type PecEnvelope,
} from '@pectrack/connector-pec';
import type { StoredBlob } from '../store/blobs.js';
import type { Mailbox } from '../store/entities/mailbox.js';
import { MailboxCheckpointSchema } from '../store/entities/mailbox.js';
import { tenantFork } from '../store/orm.js';
import { planBatches, uidSet, type PendingMessage } from './batches.js';
import { CommitChain, settled } from './commit-chain.js';
import type { IntakeContext } from './context.js';
import { imapAccountOf } from './imap.js';
import { pendingWindows } from './listing.js';
import { factsOf, unparseableFacts } from './facts.js';
import { recordBatch, type IngestedMessage, type FolderPosition } from './record.js';
import { deliverReceipts } from './receipts.js';
import {
  heldAgain,
  heldLongEnough,
  withheldFacts,
  withheldOf,
  WithheldMessageError,
  type Unreturned,
  type WithheldMessage,
} from './withheld.js';

export interface FolderSyncResult {
  folder: string;
  uidValidity: string;
  fetched: number;
  inserted: number;
  duplicates: number;
  /** True when the UIDVALIDITY or the account differed from the checkpoint: the folder was re-read. */
  resynced: boolean;
}

interface RawMessage {
  uid: number;
  source: Buffer;
  /** When the mailbox received it, as the listing said. */
  receivedAt?: Date;
  /** Set when the bytes were streamed into the blob store while they arrived. */
  stored?: StoredBlob;
}

/** A fetched batch whose messages are being stored and parsed. */
interface PreparedBatch {
  /** The batch's last UID: where the checkpoint moves once it commits. */
  lastUid: number;
  items: Promise<IngestedMessage[]>;
  uids: number[];
  /** Set when the folder stops at a message the server did not return whole. */
  heldAt?: WithheldMessage;
  blocking?: Unreturned;
}

/** A batch as the server returned it: the messages that came whole, and those that did not. */
interface FetchedBatch {
  raws: RawMessage[];
  /** In UID order, each with what came of it. */
  unreturned: UnreturnedRaw[];
}

interface UnreturnedRaw extends Unreturned {
  raw: RawMessage | null;
}

/** Fetched batches not yet committed, the one being fetched included. */
const BATCHES_IN_FLIGHT = 3;
/** Above this size a message is streamed to the blob store instead of collected by the fetch. */
const STREAM_ABOVE_BYTES = 4 * 1024 * 1024;
const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

export async function syncFolder(
  ctx: IntakeContext,
  client: ImapFlow,
  mailbox: Mailbox,
  folder: string,
): Promise<FolderSyncResult> {
  const lock = await client.getMailboxLock(folder);
  try {
    const box = client.mailbox as MailboxObject;
    const uidValidity = String(box.uidValidity);
    const checkpoint = await loadCheckpoint(ctx, mailbox, folder);
    const account = imapAccountOf(mailbox);
    const resynced =
      checkpoint !== null &&
      (checkpoint.uidValidity !== uidValidity || (checkpoint.account ?? account) !== account);
    const position: FolderPosition = {
      mailboxId: mailbox.id,
      folder,
      uidValidity,
      lastUid: checkpoint && !resynced ? checkpoint.lastUid : 0,
      account,
      withheld: resynced ? null : withheldOf(checkpoint),
    };
    const result: FolderSyncResult = {
      folder,
      uidValidity,
      fetched: 0,
      inserted: 0,
      duplicates: 0,
      resynced,
    };
    // Fetching, storing+parsing and committing overlap: each fetched batch starts its store and
    // parse at once and queues its commit behind the previous one, so the wait for the disk
    // (blob flush, database commit) never stalls the fetch or the parser. Commits stay in UID
    // order and a failed commit stops the ones after it: the checkpoint only ever moves past
    // committed messages. At most BATCHES_IN_FLIGHT batches are held in memory at once.
    const commits = new CommitChain(BATCHES_IN_FLIGHT);
    let listed = 0;
    try {
      const windows =
        box.exists > 0
          ? pendingWindows(client, position.lastUid, box.uidNext, ctx.limits.listWindowUids)
          : [];
      for await (const pending of windows) {
        listed += pending.length;
        for (const batch of planBatches(pending, ctx.limits.batchMessages, ctx.limits.batchBytes)) {
          await commits.room();
          const fetched = await fetchWhole(ctx, client, batch);
          const prepared = prepareBatch(ctx, position, batch, fetched);
          commits.add(() => commit(ctx, client, mailbox, position, prepared, result));
          if (prepared.heldAt) {
            // Committed first (a failed commit fails the pass, as any), then the folder stops.
            await commits.drained();
            throw new WithheldMessageError(folder, prepared.heldAt, prepared.blocking!, ctx.limits);
          }
        }
      }
    } catch (error) {
      // Batches fetched before the failure still commit, and nothing runs after the lock is released.
      await commits.drained().catch(() => undefined);
      throw error;
    }
    await commits.drained();
    // A folder seen for the first time, or re-read, keeps its UIDVALIDITY even when empty.
    if (listed === 0 && (checkpoint === null || resynced))
      await recordBatch(ctx.orm, mailbox.tenant.id, position, [], ctx.now());
    if (mailbox.flagKeyword && position.lastUid > 0)
      await flagUnmarked(ctx, client, mailbox, position.lastUid);
    return result;
  } finally {
    lock.release();
  }
}

/**
 * What of a fetched batch commits: every message up to the first one the server did not return
 * whole, where the folder is then held (health names it). The message the folder has been held
 * at long enough is recorded without its content instead (withheld.ts), and the batch goes on.
 */
function prepareBatch(
  ctx: IntakeContext,
  position: FolderPosition,
  batch: PendingMessage[],
  { raws, unreturned }: FetchedBatch,
): PreparedBatch {
  const now = ctx.now();
  const [first, ...rest] = unreturned;
  const earlier = position.withheld ?? null;
  const skipped = first && heldLongEnough(ctx.limits, earlier, first.uid, now) ? first : undefined;
  const blocking = skipped ? rest[0] : first;
  const kept = blocking ? raws.filter((r) => r.uid < blocking.uid) : raws;
  const items = [
    ...kept.map((raw) => ({ uid: raw.uid, item: () => ingest(ctx, raw) })),
    ...(skipped
      ? [{ uid: skipped.uid, item: () => withheldItem(ctx, position, skipped, earlier!) }]
      : []),
  ].sort((a, b) => a.uid - b.uid);
  return {
    lastUid: blocking ? blocking.uid - 1 : batch.at(-1)!.uid,
    items: settled(Promise.all(items.map(({ item }) => item()))),
    uids: items.map(({ uid }) => uid),
    ...(blocking && { heldAt: heldAgain(earlier, blocking.uid, now), blocking }),
  };
}

/** The row of a message recorded without its content: what bytes came, and why. */
async function withheldItem(
  ctx: IntakeContext,
  position: FolderPosition,
  unreturned: UnreturnedRaw,
  held: WithheldMessage,
): Promise<IngestedMessage> {
  const stored =
    unreturned.raw?.stored ?? (await ctx.blobs.put(unreturned.raw?.source ?? Buffer.alloc(0)));
  ctx.log.warn(
    { mailboxId: position.mailboxId, folder: position.folder, uid: unreturned.uid },
    'message never returned whole by the server; recorded without its content',
  );
  return {
    uid: unreturned.uid,
    sha256: stored.sha256,
    size: stored.size,
    receivedAt: unreturned.receivedAt,
    facts: withheldFacts(stored.sha256, position, unreturned, held),
    event: null,
  };
}

async function commit(
  ctx: IntakeContext,
  client: ImapFlow,
  mailbox: Mailbox,
  position: FolderPosition,
  batch: PreparedBatch,
  result: FolderSyncResult,
): Promise<void> {
  const items = await batch.items;
  await ctx.blobs.flush();
  position.lastUid = batch.lastUid;
  if (batch.heldAt) position.withheld = batch.heldAt;
  else if (position.withheld && position.lastUid >= position.withheld.uid) position.withheld = null;
  const outcome = await recordBatch(ctx.orm, mailbox.tenant.id, position, items, ctx.now(), {
    receiptTimeToLiveMs: ctx.receipts.timeToLiveMs,
  });
  result.fetched += items.length;
  result.inserted += outcome.inserted;
  result.duplicates += outcome.duplicates;
  if (outcome.keptReceipts.length)
    await deliverReceipts(ctx, mailbox.tenant.id, outcome.keptReceipts);
  if (mailbox.flagKeyword) await flag(ctx, client, mailbox, batch.uids);
}

async function loadCheckpoint(ctx: IntakeContext, mailbox: Mailbox, folder: string) {
  const em = tenantFork(ctx.orm, mailbox.tenant.id);
  return em.findOne(MailboxCheckpointSchema, { mailboxId: mailbox.id, folder });
}

const REFETCH_ATTEMPTS = 3;
const REFETCH_DELAY_MS = 250;

/**
 * The checkpoint moves past a batch's last UID, so every UID of the batch must come back with all
 * its bytes: a server that answers a FETCH without some of them (a maildir still settling), or
 * with fewer bytes than the RFC822.SIZE it listed (a body cut short: stored, it would stand for
 * the message for good, its provider id making the whole one a duplicate), is asked again, and a
 * sync that still misses one fails before its commit instead of skipping or cutting the message.
 * A message another client expunged since the listing (a shared mailbox) is no longer there to
 * miss: it is left out, and the rest of the batch goes on.
 */
async function fetchWhole(
  ctx: IntakeContext,
  client: ImapFlow,
  listed: PendingMessage[],
): Promise<FetchedBatch> {
  let batch = listed;
  for (let attempt = 1; ; attempt++) {
    const large = batch.length === 1 && batch[0]!.size > STREAM_ABOVE_BYTES;
    const raws = large
      ? await streamOne(ctx, client, batch[0]!.uid)
      : await fetchBatch(client, batch);
    const returned = new Map(raws.map((r) => [r.uid, r.stored?.size ?? r.source.length]));
    const unanswered = batch.filter((m) => !returned.has(m.uid)).map((m) => m.uid);
    const gone = await expunged(client, unanswered);
    batch = batch.filter((m) => !gone.has(m.uid));
    const whole = (m: PendingMessage) => returned.has(m.uid) && returned.get(m.uid)! >= m.size;
    if (batch.every(whole)) return { raws: withReceivedAt(raws, batch), unreturned: [] };
    if (attempt >= REFETCH_ATTEMPTS) {
      const got = new Map(raws.map((r) => [r.uid, r]));
      return {
        raws: withReceivedAt(
          raws.filter((r) => batch.some((m) => m.uid === r.uid && whole(m))),
          batch,
        ),
        unreturned: batch
          .filter((m) => !whole(m))
          .map((m) => ({
            ...m,
            gotBytes: returned.get(m.uid) ?? null,
            raw: got.get(m.uid) ?? null,
          })),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, REFETCH_DELAY_MS * attempt));
  }
}

/** Which of `uids` the folder no longer holds (expunged since they were listed). */
async function expunged(client: ImapFlow, uids: number[]): Promise<Set<number>> {
  if (uids.length === 0) return new Set();
  const present = new Set<number>();
  for await (const message of client.fetch(uidSet(uids), { uid: true }, { uid: true }))
    present.add(message.uid);
  return new Set(uids.filter((uid) => !present.has(uid)));
}

function withReceivedAt(raws: RawMessage[], batch: PendingMessage[]): RawMessage[] {
  const listed = new Map(batch.map((m) => [m.uid, m.receivedAt]));
  for (const raw of raws) raw.receivedAt = listed.get(raw.uid);
  return raws;
}

async function fetchBatch(client: ImapFlow, batch: PendingMessage[]): Promise<RawMessage[]> {
  const raws: RawMessage[] = [];
  const range = uidSet(batch.map((m) => m.uid));
  for await (const message of client.fetch(range, { uid: true, source: true }, { uid: true })) {
    if (message.source) raws.push({ uid: message.uid, source: message.source });
  }
  return raws.sort((a, b) => a.uid - b.uid);
}

/**
 * A large message goes from the socket to the blob store in chunks, then is read back once
 * for the parser: one copy in memory instead of the fetch's collected chunks plus their join.
 */
async function streamOne(ctx: IntakeContext, client: ImapFlow, uid: number): Promise<RawMessage[]> {
  const download = await client.download(String(uid), undefined, {
    uid: true,
    chunkSize: DOWNLOAD_CHUNK_BYTES,
  });
  if (!download.content) return [];
  const stored = await ctx.blobs.put(download.content);
  return [{ uid, source: await reread(ctx, stored), stored }];
}

/**
 * The bytes are stored first and then move to the parser: once stored they can be read again
 * should the parse worker die, so they need not be copied for it (a copy per message was half
 * the main thread's buffer churn), and the item is safe even when the parser fails on them.
 */
async function ingest(ctx: IntakeContext, raw: RawMessage): Promise<IngestedMessage> {
  const stored = raw.stored ?? (await ctx.blobs.put(raw.source));
  const { sha256, size } = stored;
  // The certificates must have been valid when the server received it, not now: a backlog's
  // provider certificates have often expired since.
  const parsed = await parseOrFailure(ctx, raw.source, {
    reread: () => reread(ctx, stored),
    ...(raw.receivedAt && { receivedAt: raw.receivedAt }),
  });
  try {
    if ('failure' in parsed) throw parsed.failure;
    const { envelope } = parsed;
    return {
      uid: raw.uid,
      sha256,
      size,
      receivedAt: raw.receivedAt,
      facts: factsOf(envelope, sha256),
      event: envelope.event,
    };
  } catch (error) {
    ctx.log.warn(
      { uid: raw.uid, sha256, err: error },
      'parser threw; message stored as unparseable',
    );
    return {
      uid: raw.uid,
      sha256,
      size,
      receivedAt: raw.receivedAt,
      facts: unparseableFacts(sha256, (error as Error).message),
      event: null,
    };
  }
}

function reread(ctx: IntakeContext, stored: StoredBlob): Promise<Buffer> {
  return ctx.blobs.read(stored.sha256, stored.size);
}

async function parseOrFailure(
  ctx: IntakeContext,
  source: Buffer,
  options: ParseRequestOptions,
): Promise<{ envelope: PecEnvelope } | { failure: Error }> {
  try {
    return { envelope: await ctx.parse(source, options) };
  } catch (error) {
    // The runtime stopping is no reading of the message: the batch fails, nothing past it
    // commits, and the next run reads it again.
    if (error instanceof ParsePoolClosedError) throw error;
    return { failure: error as Error };
  }
}

/**
 * The keyword is a courtesy to people reading the mailbox with another client: the messages
 * are committed already, so a server that refuses keywords costs a warning, not a re-sync.
 */
async function flag(
  ctx: IntakeContext,
  client: ImapFlow,
  mailbox: Mailbox,
  uids: number[],
): Promise<void> {
  let stored = false;
  try {
    // imapflow answers false, rather than throwing, for a STORE that failed.
    stored = await client.messageFlagsAdd(uidSet(uids), [mailbox.flagKeyword!], { uid: true });
  } catch (error) {
    if (!client.usable) throw error;
  }
  if (!stored)
    ctx.log.warn(
      { mailboxId: mailbox.id, keyword: mailbox.flagKeyword, uids: uidSet(uids) },
      'could not flag processed messages; the next pass tries again',
    );
}

/**
 * Every committed message still without the keyword gets it: one the STORE after its commit
 * missed (the connection dropped in between) would otherwise stay unmarked for good, and
 * whoever reads the mailbox with another client would take it for mail nobody processed.
 */
async function flagUnmarked(
  ctx: IntakeContext,
  client: ImapFlow,
  mailbox: Mailbox,
  lastUid: number,
): Promise<void> {
  const unmarked = await client.search(
    { uid: `1:${lastUid}`, unKeyword: mailbox.flagKeyword! },
    { uid: true },
  );
  if (unmarked && unmarked.length > 0) await flag(ctx, client, mailbox, unmarked);
}
