/**
 * Messages published with a time to live that no instance was waiting for (Zeebe's message
 * buffering; without a time to live a message finds its waiting instances or nobody, as in
 * Camunda 7). A buffered message goes to ONE instance: the first that waits on its name and
 * correlation key, oldest message first. It expires after its time to live.
 *
 * A PEC receipt needs this: the provider's acceptance can be committed by the intake while the
 * process that sent the message is still finishing its send task, before it waits for receipts.
 *
 * Delivery claims the message for one subscription (a conditional update: one node wins), then
 * triggers that subscription, then deletes the message. Both sides look after they write: the
 * publisher after buffering, the instance after committing its wait. A claim a crash left behind
 * is finished by `redeliverBuffered` (a scheduler job) once it is older than CLAIM_ABANDONED_MS:
 * it triggers the claimed wait, or drops the message when that wait is gone, because the crash
 * may have come after the trigger and a receipt delivered twice would be worse than one lost to
 * a crash and a cancelled wait at once.
 */
import { BufferedMessageSchema, keptMessage, SubscriptionSchema } from '../store/entities/index.js';
import type { SubscriptionRecord, InstanceChange } from '../store/commands/index.js';
import { knexOf } from '../store/orm.js';
import { isStale, runCommand } from './command-runner.js';
import { tenantEm, type ServiceContext } from './context.js';
import type { Variables } from '../engine/types.js';

/** A date as the platform binds it (`processDateProperty`). */
type DbDate = string | number | Date;

/** A claim this old was left by a crash: a delivery takes milliseconds. */
export const CLAIM_ABANDONED_MS = 60_000;

export interface PublishedMessage {
  name: string;
  correlationKey?: string | null;
  variables?: Variables;
}

/** The part of a message subscription delivery needs. */
type Wait = Pick<
  SubscriptionRecord,
  'id' | 'instanceId' | 'ref' | 'messageName' | 'correlationKey'
>;

/**
 * Keeps `message` for `timeToLiveMs`, unless an instance started waiting for it meanwhile.
 * Returns the instance it went to at once, if one did.
 */
export async function bufferMessage(
  ctx: ServiceContext,
  tenantId: string,
  message: PublishedMessage,
  timeToLiveMs: number,
): Promise<string | null> {
  const kept = tenantEm(ctx, tenantId).insert(
    BufferedMessageSchema,
    keptMessage(tenantId, message, timeToLiveMs, ctx.now()),
  );
  return deliverKept(ctx, tenantId, (await kept) as number);
}

/**
 * Hands a kept message to the first instance waiting for it, if one does: the look a publisher
 * takes after it wrote the message (an instance may have started waiting meanwhile). A wait
 * takes the oldest message kept for it, so an older one may go first and this one to the next
 * wait. Returns the instance this message went to, or null when it is still kept.
 */
export async function deliverKept(
  ctx: ServiceContext,
  tenantId: string,
  id: number,
): Promise<string | null> {
  const kept = await tenantEm(ctx, tenantId).findOne(BufferedMessageSchema, { id });
  if (!kept) return null;
  for (const wait of await waitsFor(ctx, tenantId, kept)) {
    if ((await deliverTo(ctx, tenantId, wait)) && !(await stillKept(ctx, tenantId, id)))
      return wait.instanceId;
  }
  return null;
}

/** After a commit: each message wait the change created takes the oldest message kept for it. */
export async function deliverBuffered(ctx: ServiceContext, change: InstanceChange): Promise<void> {
  for (const created of change.subscriptionsCreated) {
    if (created.kind !== 'message' || created.messageName === null) continue;
    await deliverTo(ctx, created.tenantId, created);
  }
}

/**
 * Finishes what a crash interrupted, for every tenant (a system job, hence plain queries naming
 * the tenant of each row): abandoned claims are delivered to their wait (or dropped when it is
 * gone: it may have taken them), unclaimed messages go to an instance already waiting, and
 * expired ones are deleted. Returns how many were delivered.
 */
export async function redeliverBuffered(ctx: ServiceContext): Promise<number> {
  const platform = ctx.orm.em.getPlatform();
  const now = platform.processDateProperty(ctx.now());
  await knexOf(ctx.orm)('buffered_message')
    .where('expires_at', '<=', now)
    .whereNull('claimed_by')
    .del();
  const abandonedBefore = new Date(ctx.now().getTime() - CLAIM_ABANDONED_MS);
  const finished = await finishAbandonedClaims(ctx, platform.processDateProperty(abandonedBefore));
  return finished + (await deliverToWaiting(ctx, now));
}

interface ClaimRow {
  id: number;
  tenant_id: string;
  variables: unknown;
  wait_id: string | null;
  instance_id: string;
  ref: string;
}

async function finishAbandonedClaims(ctx: ServiceContext, claimedBefore: DbDate): Promise<number> {
  const knex = knexOf(ctx.orm);
  const claims = (await knex('buffered_message as b')
    .leftJoin('subscription as s', 's.id', 'b.claimed_by')
    .whereNotNull('b.claimed_by')
    .andWhere('b.claimed_at', '<', claimedBefore)
    .select(
      'b.id',
      'b.tenant_id',
      'b.variables',
      's.id as wait_id',
      's.instance_id',
      's.ref',
    )) as ClaimRow[];
  let delivered = 0;
  for (const claim of claims) {
    if (claim.wait_id === null) {
      await knex('buffered_message').where({ id: claim.id }).del();
      continue;
    }
    const wait = { id: claim.wait_id, instanceId: claim.instance_id, ref: claim.ref };
    const variables = (
      typeof claim.variables === 'string' ? JSON.parse(claim.variables) : claim.variables
    ) as Variables;
    if (await trigger(ctx, claim.tenant_id, { id: claim.id, variables }, wait, 'drop')) delivered++;
  }
  return delivered;
}

interface WaitRow {
  id: string;
  tenant_id: string;
  instance_id: string;
  ref: string;
  message_name: string;
  correlation_key: string | null;
}

/** Waits committed while a message they match is kept: a crash came between the two looks. */
async function deliverToWaiting(ctx: ServiceContext, now: DbDate): Promise<number> {
  const waits = (await knexOf(ctx.orm)('buffered_message as b')
    .join('subscription as s', function () {
      this.on('s.tenant_id', 'b.tenant_id')
        .andOn('s.message_name', 'b.name')
        .andOn(function () {
          this.on('s.correlation_key', 'b.correlation_key').orOnNull('b.correlation_key');
        });
    })
    .whereNull('b.claimed_by')
    .andWhere('s.kind', 'message')
    .andWhere('b.expires_at', '>', now)
    .distinct(
      's.id',
      's.tenant_id',
      's.instance_id',
      's.ref',
      's.message_name',
      's.correlation_key',
      's.created_at',
    )
    .orderBy([{ column: 's.created_at' }, { column: 's.id' }])) as WaitRow[];
  let delivered = 0;
  for (const s of waits) {
    const wait = {
      id: s.id,
      instanceId: s.instance_id,
      ref: s.ref,
      messageName: s.message_name,
      correlationKey: s.correlation_key,
    };
    if (await deliverTo(ctx, s.tenant_id, wait)) delivered++;
  }
  return delivered;
}

/** The message waits `message` matches, oldest first (the rule `correlate` applies). */
async function waitsFor(
  ctx: ServiceContext,
  tenantId: string,
  message: PublishedMessage,
): Promise<Wait[]> {
  const where: Record<string, unknown> = { kind: 'message', messageName: message.name };
  if (message.correlationKey != null) where.correlationKey = message.correlationKey;
  const rows = await tenantEm(ctx, tenantId).find(SubscriptionSchema, where, {
    orderBy: { createdAt: 'asc', id: 'asc' },
  });
  return rows.map((s) => ({
    id: s.id,
    instanceId: s.instance.id,
    ref: s.ref,
    messageName: s.messageName,
    correlationKey: s.correlationKey,
  }));
}

/** Claims the oldest unexpired message kept for `wait` and triggers it; false when none was. */
async function deliverTo(ctx: ServiceContext, tenantId: string, wait: Wait): Promise<boolean> {
  const em = tenantEm(ctx, tenantId);
  for (;;) {
    // A message without a key goes to a wait on any key (as `correlate` does).
    const keys: { correlationKey: string | null }[] = [{ correlationKey: null }];
    if (wait.correlationKey !== null) keys.push({ correlationKey: wait.correlationKey });
    const oldest = await em.findOne(
      BufferedMessageSchema,
      {
        name: wait.messageName!,
        $or: keys,
        claimedBy: null,
        expiresAt: { $gt: ctx.now() },
      },
      { orderBy: { id: 'asc' } },
    );
    if (!oldest) return false;
    const claimed = await em.nativeUpdate(
      BufferedMessageSchema,
      { id: oldest.id, claimedBy: null },
      { claimedBy: wait.id, claimedAt: ctx.now() },
    );
    if (claimed === 0) continue; // another node or publisher took it: look again
    return trigger(ctx, tenantId, oldest, wait, 'release');
  }
}

/**
 * Triggers `wait` with the claimed message, then deletes the message. When the wait is already
 * gone (a boundary timer fired, the instance was cancelled), a live delivery releases the message
 * for the next wait; the crash sweep drops it (see the module comment).
 */
async function trigger(
  ctx: ServiceContext,
  tenantId: string,
  message: { id: number; variables: Variables },
  wait: Pick<Wait, 'id' | 'instanceId' | 'ref'>,
  whenGone: 'release' | 'drop',
): Promise<boolean> {
  const em = tenantEm(ctx, tenantId);
  try {
    await runCommand(ctx, {
      tenantId,
      instanceId: wait.instanceId,
      command: { type: 'triggerMessage', subscriptionRef: wait.ref, variables: message.variables },
      actor: null,
      retryConflicts: true,
    });
  } catch (error) {
    if (!isStale(error)) throw error;
    if (whenGone === 'drop') await em.nativeDelete(BufferedMessageSchema, { id: message.id });
    else
      await em.nativeUpdate(
        BufferedMessageSchema,
        { id: message.id, claimedBy: wait.id },
        { claimedBy: null, claimedAt: null },
      );
    return false;
  }
  await em.nativeDelete(BufferedMessageSchema, { id: message.id });
  return true;
}

async function stillKept(ctx: ServiceContext, tenantId: string, id: number): Promise<boolean> {
  return (await tenantEm(ctx, tenantId).count(BufferedMessageSchema, { id })) > 0;
}
