/**
 * Reading a received message again from its stored bytes, and acting on what the reading now
 * finds. A message is kept whatever the parser made of it (never lost), but what it made of it
 * decides what follows: only a certified message opens a case, only a receipt moves a sent
 * message. So a message read wrongly at intake — the parse worker died on it, a parser bug fixed
 * since, the trust anchors configured after it arrived — stays a dead row until it is read
 * again. Here the row takes the new reading, keeps what it was before in its summary
 * (`earlierReadings`), and gets what it missed: the intake outbox entry of a certified message,
 * the delivery step of a receipt. Nothing is done twice: a message that had its entry or applied
 * its receipt keeps them, and one whose provider id another row already holds stays a copy.
 */
import { isDeepStrictEqual } from 'node:util';
import { LockMode, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import type { PecEnvelope } from '@pectrack/connector-pec';
import { z } from 'zod';
import { ConflictError, NotFoundError, PecTrackError } from '../errors.js';
import {
  MessageEventSchema,
  MessageSchema,
  SIGNATURE_STATUSES,
  type Message,
} from '../store/entities/message.js';
import { OutboxSchema } from '../store/entities/outbox.js';
import { tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';
import { factsOf, opensCase, readColumnsOf, type MessageFacts, type ReadColumns } from './facts.js';
import { intakeEntry, intakeIdempotencyKey, keepReceipts } from './record.js';
import { deliverReceipts, RECEIPT_NOT_APPLIED, takeReceipt } from './receipts.js';
import { fromStoredBytes, MessageBytesUnreadableError } from './stored-bytes.js';
import { WITHHELD_KEY_PREFIX } from './withheld.js';

/** What a reading of a message was, as its row keeps it. */
export interface Reading {
  kind: string;
  providerId: string | null;
  signatureStatus: string | null;
  problems: string[];
}

export interface ReparseResult {
  id: string;
  /** Whether the new reading differs from the stored one (the row was updated). */
  changed: boolean;
  before: Reading;
  after: Reading;
  /** Read as a certified message for the first time: its intake entry was added. */
  caseOpened: boolean;
  /** Read as a receipt for the first time: it moved the sent message it refers to. */
  receiptApplied: boolean;
  /** Another row already holds its provider id: this one stays a copy (no entry, no receipt). */
  duplicateOf: string | null;
}

export const ReparseSelection = z.object({
  // An empty value is refused, not taken as no filter: it would select every message.
  kind: z.string().min(1).max(48).optional(),
  signatureStatus: z.enum(SIGNATURE_STATUSES).optional(),
  mailboxId: z.string().min(1).max(64).optional(),
  /** The `next` a previous call returned: the messages after it by id. */
  after: z.string().min(1).max(64).optional(),
  limit: z.number().int().min(1).max(500).default(100),
});
export type ReparseSelection = z.input<typeof ReparseSelection>;

export interface ReparseBatch {
  examined: number;
  changed: number;
  casesOpened: number;
  receiptsApplied: number;
  results: ReparseResult[];
  /** The messages that could not be read again (bytes missing, the parser failed), and why. */
  failed: { id: string; reason: string }[];
  /** Pass as `after` for the next messages; null when none is left. */
  next: string | null;
}

/**
 * A message that could not be read again keeps the reading it has: a failure is not a reading
 * (a good row must not turn `unparseable` because a worker died). Its bytes gone from the blob
 * store, or damaged, likewise: MessageBytesUnreadableError, which any read of them may meet.
 */
export class NotReadAgainError extends PecTrackError {}

/** The parser itself failed (its worker died on the message): it keeps its reading. */
export class ReparseFailedError extends NotReadAgainError {
  constructor(message: Message, reason: string) {
    super(
      'reparse-failed',
      409,
      `message ${message.id} could not be read again, it keeps its reading: ${reason}`,
      { id: message.id, reason },
    );
  }
}

/**
 * The server never returned the message whole (withheld.ts): its row holds the bytes that did
 * come. Read again, they could pass for the message they are part of (its provider id, a case
 * opened from a fragment), so they are not.
 */
export class RecordedWithoutContentError extends NotReadAgainError {
  constructor(message: Message) {
    super(
      'recorded-without-content',
      409,
      `message ${message.id} was recorded without its content (the IMAP server never returned it whole): there is nothing to read again; read it with another mail client`,
      { id: message.id },
    );
  }
}

/** Past readings kept in a message's summary, oldest first. */
const EARLIER_READINGS = 'earlierReadings';

export function reparseServices(ctx: IntakeContext) {
  const one = async (tenantId: string, id: string): Promise<ReparseResult> => {
    const stored = await tenantFork(ctx.orm, tenantId).findOne(MessageSchema, { id });
    if (!stored) throw new NotFoundError('message', id);
    if (stored.direction !== 'in') {
      const why = `message ${id} was sent by us: only received messages are read again`;
      throw new ConflictError(why, { id });
    }
    if (stored.dedupeKey.startsWith(WITHHELD_KEY_PREFIX))
      throw new RecordedWithoutContentError(stored);
    const { facts, event } = await readAgain(ctx, stored);
    const outcome = await withRetryOnRace(() =>
      tenantFork(ctx.orm, tenantId).transactional((tx) =>
        takeReading(tx, tenantId, id, facts, event, ctx),
      ),
    );
    if (outcome.keptReceipts.length > 0) await deliverReceipts(ctx, tenantId, outcome.keptReceipts);
    return outcome.result;
  };

  return {
    one,

    /** The received messages matching `selection`, in id order, a page at a time. */
    async many(tenantId: string, selection: ReparseSelection = {}): Promise<ReparseBatch> {
      const s = ReparseSelection.parse(selection);
      const rows = await tenantFork(ctx.orm, tenantId).find(
        MessageSchema,
        {
          direction: 'in',
          // Not in a selection: never read again, they would each fail every run.
          $not: { dedupeKey: { $like: `${WITHHELD_KEY_PREFIX}%` } },
          ...(s.kind !== undefined ? { kind: s.kind } : {}),
          ...(s.signatureStatus !== undefined ? { signatureStatus: s.signatureStatus } : {}),
          ...(s.mailboxId !== undefined ? { mailboxId: s.mailboxId } : {}),
          ...(s.after !== undefined ? { id: { $gt: s.after } } : {}),
        },
        { fields: ['id'], orderBy: { id: 'asc' }, limit: s.limit },
      );
      const results: ReparseResult[] = [];
      const failed: ReparseBatch['failed'] = [];
      for (const row of rows) {
        try {
          results.push(await one(tenantId, row.id));
        } catch (error) {
          // One message that cannot be read does not stop the others.
          if (!(error instanceof NotReadAgainError || error instanceof MessageBytesUnreadableError))
            throw error;
          failed.push({ id: row.id, reason: error.message });
        }
      }
      return {
        examined: rows.length,
        changed: results.filter((r) => r.changed).length,
        casesOpened: results.filter((r) => r.caseOpened).length,
        receiptsApplied: results.filter((r) => r.receiptApplied).length,
        results,
        failed,
        next: rows.length === s.limit ? rows.at(-1)!.id : null,
      };
    },
  };
}

export type ReparseServices = ReturnType<typeof reparseServices>;

/**
 * A sync committing the same provider id between our check and our update makes the update
 * break the unique dedupe key: once more, the check then finds that row and keeps this a copy.
 */
async function withRetryOnRace<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
    return work();
  }
}

/** The reading intake would make of the stored bytes now. */
async function readAgain(
  ctx: IntakeContext,
  message: Message,
): Promise<{ facts: MessageFacts; event: PecEnvelope['event'] }> {
  const reread = () => ctx.blobs.read(message.sha256, message.size);
  // Bytes gone are not a reading of the message: the row keeps the one it has.
  const raw = await fromStoredBytes(message, reread, 'be read again');
  let envelope: PecEnvelope;
  try {
    // Read as when it came: certificates that expired since did not make it forged.
    envelope = await ctx.parse(raw, { reread, receivedAt: message.receivedAt });
  } catch (error) {
    throw new ReparseFailedError(message, (error as Error).message);
  }
  return { facts: factsOf(envelope, message.sha256), event: envelope.event };
}

async function takeReading(
  tx: EntityManager,
  tenantId: string,
  id: string,
  facts: MessageFacts,
  event: PecEnvelope['event'],
  ctx: IntakeContext,
): Promise<{ result: ReparseResult; keptReceipts: number[] }> {
  // Locked: a receipt correlating against this row, or a second reparse, waits for this one.
  const row = await tx.findOneOrFail(
    MessageSchema,
    { id },
    { lockMode: LockMode.PESSIMISTIC_WRITE },
  );
  const now = ctx.now();
  const before = readingOf(row);
  const result: ReparseResult = {
    id,
    changed: !sameReading(row, facts),
    before,
    after: before,
    caseOpened: false,
    receiptApplied: false,
    duplicateOf: null,
  };
  const hadEntry = await hasIntakeEntry(tx, tenantId, [row.dedupeKey, facts.dedupeKey]);
  // Looked up whether or not the reading changed: a copy read again a second time reads the
  // same, and is still a copy (no entry, no receipt).
  const holder =
    facts.dedupeKey === row.dedupeKey
      ? null
      : await tx.findOne(MessageSchema, { dedupeKey: facts.dedupeKey }, { fields: ['id'] });
  result.duplicateOf = holder?.id ?? null;
  if (result.changed) {
    await takeNewReading(tx, row, facts, holder !== null, now);
    result.after = readingOf(row);
  }
  if (holder) return { result, keptReceipts: [] };
  // Also for a reading that did not change: what a rule added since calls for (the case of a
  // REM dispatch, a receipt about a message recorded since) is done now, and nothing twice.
  const { hadReceiptApplied, hadReceiptNoted, hadNoteForGood } = await receiptStepsOf(tx, row.id);
  // Taken again only when it has not been: a note about a doubt the new reading may lift.
  const step =
    hadReceiptApplied || hadNoteForGood || (hadReceiptNoted && facts.receiptDoubt !== null)
      ? { aboutOurMessage: true, applied: null }
      : await takeReceipt(tx, row, facts, event, now);
  const aboutOurMessage = step.aboutOurMessage || hadReceiptApplied || hadReceiptNoted;
  if (opensCase(facts, aboutOurMessage) && !hadEntry) {
    await tx.insert(OutboxSchema, { ...intakeEntry(tenantId, row, now), tenant: tenantId });
    result.caseOpened = true;
  }
  // One that names none of the message's recipients moved no one: noted, not applied.
  if (!step.applied || step.applied.recipients.length === 0) return { result, keptReceipts: [] };
  result.receiptApplied = true;
  const keptReceipts = await keepReceipts(tx, tenantId, [step.applied], now, {
    receiptTimeToLiveMs: ctx.receipts.timeToLiveMs,
  });
  return { result, keptReceipts };
}

/** The row takes the new reading; the one it had joins `earlierReadings`. A copy keeps its key. */
async function takeNewReading(
  tx: EntityManager,
  row: Message,
  facts: MessageFacts,
  isCopy: boolean,
  now: Date,
): Promise<void> {
  const earlier = { ...readingOf(row), until: now.toISOString() };
  Object.assign(row, {
    ...readColumnsOf(facts),
    dedupeKey: isCopy ? row.dedupeKey : facts.dedupeKey,
    summary: { ...facts.summary, [EARLIER_READINGS]: [...earlierReadingsOf(row), earlier] },
  } satisfies Partial<Message>);
  await tx.flush();
}

function readingOf(row: Message): Reading {
  return {
    kind: row.kind,
    providerId: row.providerId,
    signatureStatus: row.signatureStatus,
    problems: [...row.problems],
  };
}

/** The readings the row's summary kept from earlier reparses. */
function earlierReadingsOf(row: Message): unknown[] {
  const kept = row.summary[EARLIER_READINGS];
  return Array.isArray(kept) ? kept : [];
}

/**
 * Whether the stored row already says what `facts` say. Compared as stored JSON: PostgreSQL's
 * jsonb does not keep key order, and the facts may hold values JSON turns into text.
 */
function sameReading(row: Message, facts: MessageFacts): boolean {
  const summary = { ...row.summary };
  delete summary[EARLIER_READINGS];
  const asStored = (columns: ReadColumns) => JSON.parse(JSON.stringify(readColumnsOf(columns)));
  return isDeepStrictEqual(asStored({ ...row, summary }), asStored(facts));
}

/**
 * Whether this message, read as a receipt before, moved its sent message or was noted as not
 * counting; and whether a note was for good (it names no recipient: no reading changes that).
 */
async function receiptStepsOf(tx: EntityManager, id: string) {
  const steps = await tx.find(
    MessageEventSchema,
    { receiptMessageId: id },
    { fields: ['event', 'data'] },
  );
  const notes = steps.filter((step) => step.event === RECEIPT_NOT_APPLIED);
  return {
    hadReceiptApplied: steps.length > notes.length,
    hadReceiptNoted: notes.length > 0,
    hadNoteForGood: notes.some((note) => note.data?.namesNoRecipient === true),
  };
}

async function hasIntakeEntry(
  tx: EntityManager,
  tenantId: string,
  dedupeKeys: string[],
): Promise<boolean> {
  const keys = [...new Set(dedupeKeys)].map((key) => intakeIdempotencyKey(tenantId, key));
  return (await tx.count(OutboxSchema, { idempotencyKey: { $in: keys } })) > 0;
}
