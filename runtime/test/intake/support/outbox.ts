/** Outbox rows a test puts in the intake's way. */
import { intakeIdempotencyKey, INTAKE_OUTBOX_KIND } from '../../../src/intake/record.js';
import { OutboxSchema } from '../../../src/store/entities/outbox.js';
import { TenantSchema } from '../../../src/store/entities/tenant.js';
import { TENANT_FILTER, type Orm } from '../../../src/store/orm.js';

/**
 * A done intake entry holding the key the message with `dedupeKey` will need: its batch cannot
 * commit (a real unique-key conflict) until the entry is deleted. Returns the key.
 */
export async function holdIntakeKey(
  orm: Orm,
  tenantId: string,
  dedupeKey: string,
): Promise<string> {
  const em = orm.em.fork({ clear: true });
  em.setFilterParams(TENANT_FILTER, { tenantId });
  const idempotencyKey = intakeIdempotencyKey(tenantId, dedupeKey);
  const now = new Date();
  em.create(OutboxSchema, {
    tenant: em.getReference(TenantSchema, tenantId),
    instanceId: null,
    kind: INTAKE_OUTBOX_KIND,
    payload: {},
    idempotencyKey,
    status: 'done',
    attempts: 0,
    nextAttemptAt: now,
    lockedUntil: null,
    lastError: null,
    createdAt: now,
    doneAt: now,
  });
  await em.flush();
  return idempotencyKey;
}
