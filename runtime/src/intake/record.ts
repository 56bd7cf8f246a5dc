/**
 * The commit point of the intake (ARCHITECTURE §2): Message rows, the folder checkpoint, the
 * intake outbox entries and the delivery state moved by receipts, in ONE transaction. A
 * message already stored under its dedupe key (the same PEC in another of the tenant's
 * mailboxes, or a re-sync after UIDVALIDITY changed) is skipped, not stored twice.
 */
import { randomUUID } from 'node:crypto';
import {
  JsonType,
  UniqueConstraintViolationException,
  type EntityManager,
  type EntityProperty,
  type Platform,
  type RequiredEntityData,
} from '@mikro-orm/core';
import type { Database, Statement } from 'better-sqlite3';
import type { Knex } from '@mikro-orm/knex';
import type { DeliveryEvent } from '@pectrack/connector-pec';
import { BufferedMessageSchema, keptMessage } from '../store/entities/buffered-message.js';
import { MailboxCheckpointSchema } from '../store/entities/mailbox.js';
import { MessageSchema, type Message } from '../store/entities/message.js';
import { OutboxSchema, type Outbox, type OutboxKind } from '../store/entities/outbox.js';
import { TenantSchema, type Tenant } from '../store/entities/tenant.js';
import { tenantFork, type Orm } from '../store/orm.js';
import { RECEIPT_MESSAGE } from './context.js';
import { opensCase, readColumnsOf, type MessageFacts } from './facts.js';
import { takeReceipt, type AppliedReceipt } from './receipts.js';
import type { WithheldMessage } from './withheld.js';

export interface IngestedMessage {
  uid: number;
  sha256: string;
  size: number;
  /** When the mailbox received it (IMAP INTERNALDATE); the commit time when unknown. */
  receivedAt?: Date;
  facts: MessageFacts;
  event: DeliveryEvent | null;
}

export interface FolderPosition {
  mailboxId: string;
  folder: string;
  uidValidity: string;
  lastUid: number;
  /** The IMAP account it was read on (imapAccountOf); left out, the position names none. */
  account?: string;
  /** The message the folder is held at (withheld.ts); left out, none. */
  withheld?: WithheldMessage | null;
}

export interface RecordOutcome {
  inserted: number;
  duplicates: number;
  receipts: AppliedReceipt[];
  /** The `pec.receipt` messages kept for the receipts that moved a delivery state. */
  keptReceipts: number[];
}

/** How long a receipt no process waits for yet is kept; absent: receipts are not published. */
export interface RecordOptions {
  receiptTimeToLiveMs?: number;
}

/** Outbox kind the case intake consumes (issue: cases); the dispatcher leaves it alone. */
export const INTAKE_OUTBOX_KIND = 'intake' satisfies OutboxKind;

const MAX_ATTEMPTS = 4;
/** knex writes a multi-row SQLite insert as a compound select, which SQLite caps at 500 terms. */
const ROWS_PER_INSERT = 200;

export async function recordBatch(
  orm: Orm,
  tenantId: string,
  position: FolderPosition,
  items: IngestedMessage[],
  now: Date,
  options: RecordOptions = {},
): Promise<RecordOutcome> {
  for (let attempt = 1; ; attempt++) {
    const em = tenantFork(orm, tenantId);
    try {
      return await em.transactional((tx) => recordIn(tx, tenantId, position, items, now, options));
    } catch (error) {
      // Another mailbox of the tenant committed the same provider id between our read and
      // our insert: the retry reads it and skips it.
      if (!(error instanceof UniqueConstraintViolationException) || attempt >= MAX_ATTEMPTS)
        throw error;
    }
  }
}

async function recordIn(
  tx: EntityManager,
  tenantId: string,
  position: FolderPosition,
  items: IngestedMessage[],
  now: Date,
  options: RecordOptions,
): Promise<RecordOutcome> {
  const fresh = await freshItems(tx, items);
  const tenant = tx.getReference(TenantSchema, tenantId);
  const rows = fresh.map((item) => messageRow(tenant, position, item, now));
  await insertRows(
    tx,
    MessageSchema.meta.className,
    rows.map((row) => ({ ...row, tenant: tenantId })),
  );

  // Receipts first: whether a REM message is about one of ours decides whether it opens a case.
  const receipts: AppliedReceipt[] = [];
  const outbox: RequiredEntityData<Outbox>[] = [];
  for (const [index, item] of fresh.entries()) {
    const row = rows[index]!;
    const step = await takeReceipt(tx, row, item.facts, item.event, now);
    if (step.applied) receipts.push(step.applied);
    if (opensCase(item.facts, step.aboutOurMessage)) outbox.push(intakeEntry(tenantId, row, now));
  }
  await insertRows(
    tx,
    OutboxSchema.meta.className,
    outbox.map((entry) => ({ ...entry, tenant: tenantId })),
  );
  const keptReceipts = await keepReceipts(tx, tenantId, receipts, now, options);
  await advanceCheckpoint(tx, tenantId, position, now);
  return { inserted: rows.length, duplicates: items.length - rows.length, receipts, keptReceipts };
}

/** A receipt that changes nothing is history, not news: only the others are published. */
export async function keepReceipts(
  tx: EntityManager,
  tenantId: string,
  receipts: AppliedReceipt[],
  now: Date,
  options: RecordOptions,
): Promise<number[]> {
  if (options.receiptTimeToLiveMs === undefined) return [];
  const ids: number[] = [];
  for (const receipt of receipts.filter((r) => r.changed)) {
    const message = {
      name: RECEIPT_MESSAGE,
      correlationKey: receipt.sentMessageId,
      variables: { receipt: { ...receipt } },
    };
    const id = await tx.insert(
      BufferedMessageSchema,
      keptMessage(tenantId, message, options.receiptTimeToLiveMs, now),
    );
    ids.push(id as number);
  }
  return ids;
}

/**
 * One multi-row insert per table on the transaction's own connection: for a batch of 200
 * messages the unit of work's per-row validation and its inlining of every value into the SQL
 * text cost more than the insert itself. Values are converted the way the ORM stores them.
 */
async function insertRows(
  tx: EntityManager,
  entity: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  const meta = tx.getMetadata().get(entity);
  const platform = tx.getPlatform();
  const stored = rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([name, value]) => {
        const property = meta.properties[name as keyof typeof meta.properties]!;
        return [property.fieldNames[0]!, columnValue(platform, property, value)];
      }),
    ),
  );
  const trx = tx.getTransactionContext<Knex.Transaction>()!;
  try {
    if (trx.client.driverName === 'better-sqlite3') {
      await insertPrepared(trx, meta.tableName, stored);
      return;
    }
    for (let start = 0; start < stored.length; start += ROWS_PER_INSERT)
      await trx.insert(stored.slice(start, start + ROWS_PER_INSERT)).into(meta.tableName);
  } catch (error) {
    // As the ORM would report it, so a unique-key race is retried by recordBatch.
    throw tx.getDriver().convertException(error as Error);
  }
}

/** Per SQLite connection, the insert statement of each table and column list. */
const preparedInserts = new WeakMap<Database, Map<string, Statement>>();

/**
 * On SQLite the statement runs on the transaction's own connection, prepared once per
 * process: knex would prepare a new 200-row statement for every batch, which cost more
 * than running it row by row.
 */
async function insertPrepared(
  trx: Knex.Transaction,
  table: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const db = (await trx.client.acquireConnection()) as Database;
  let statements = preparedInserts.get(db);
  if (!statements) preparedInserts.set(db, (statements = new Map()));
  const key = `${table}(${columns.join(',')})`;
  let insert = statements.get(key);
  if (!insert) {
    const names = columns.map((column) => `"${column}"`).join(', ');
    const marks = columns.map(() => '?').join(', ');
    insert = db.prepare(`insert into "${table}" (${names}) values (${marks})`);
    statements.set(key, insert);
  }
  for (const row of rows) insert.run(columns.map((column) => sqliteValue(row[column])));
}

/** As knex binds values for better-sqlite3: booleans as 0/1, dates as epoch milliseconds. */
function sqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.valueOf();
  return value === undefined ? null : value;
}

function columnValue(platform: Platform, property: EntityProperty, value: unknown): unknown {
  if (value === null) return null;
  if (value instanceof Date) return platform.processDateProperty(value);
  if (property.customType instanceof JsonType) return JSON.stringify(value);
  return value;
}

/** The items whose dedupe key is neither stored yet nor repeated earlier in the batch. */
async function freshItems(tx: EntityManager, items: IngestedMessage[]): Promise<IngestedMessage[]> {
  if (items.length === 0) return [];
  const keys = [...new Set(items.map((i) => i.facts.dedupeKey))];
  const stored = await tx.find(
    MessageSchema,
    { dedupeKey: { $in: keys } },
    { fields: ['dedupeKey'] },
  );
  const seen = new Set(stored.map((m) => m.dedupeKey));
  return items.filter((item) => {
    if (seen.has(item.facts.dedupeKey)) return false;
    seen.add(item.facts.dedupeKey);
    return true;
  });
}

function messageRow(
  tenant: Tenant,
  position: FolderPosition,
  item: IngestedMessage,
  now: Date,
): Message {
  const { facts } = item;
  return {
    id: randomUUID(),
    tenant: tenant,
    direction: 'in',
    mailboxId: position.mailboxId,
    folder: position.folder,
    uid: item.uid,
    dedupeKey: facts.dedupeKey,
    ...readColumnsOf(facts),
    sha256: item.sha256,
    size: item.size,
    deliveryStatus: null,
    receivedAt: item.receivedAt ?? now,
  };
}

/** One intake entry per stored message: the key a re-drain or a duplicate cannot take twice. */
export function intakeIdempotencyKey(tenantId: string, dedupeKey: string): string {
  return `intake:${tenantId}:${dedupeKey}`;
}

export function intakeEntry(tenantId: string, row: Message, now: Date): RequiredEntityData<Outbox> {
  return {
    tenant: row.tenant,
    instanceId: null,
    kind: INTAKE_OUTBOX_KIND,
    payload: { messageId: row.id, mailboxId: row.mailboxId, providerId: row.providerId },
    idempotencyKey: intakeIdempotencyKey(tenantId, row.dedupeKey),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    lockedUntil: null,
    lastError: null,
    createdAt: now,
    doneAt: null,
  };
}

async function advanceCheckpoint(
  tx: EntityManager,
  tenantId: string,
  position: FolderPosition,
  now: Date,
): Promise<void> {
  const where = { mailboxId: position.mailboxId, folder: position.folder };
  const values = {
    uidValidity: position.uidValidity,
    lastUid: position.lastUid,
    account: position.account ?? null,
    withheldUid: position.withheld?.uid ?? null,
    withheldPasses: position.withheld?.passes ?? null,
    withheldSince: position.withheld?.since ?? null,
    updatedAt: now,
  };
  const updated = await tx.nativeUpdate(MailboxCheckpointSchema, where, values);
  if (updated === 0) {
    await tx.insert(MailboxCheckpointSchema, {
      ...where,
      ...values,
      tenant: tx.getReference(TenantSchema, tenantId),
    });
  }
}
