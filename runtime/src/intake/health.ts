/** Mailbox health as the API shows it: the outcome of the last sync attempts. */
import { MailboxSchema, type MailboxHealthStatus } from '../store/entities/mailbox.js';
import { TENANT_FILTER } from '../store/orm.js';
import type { IntakeContext } from './context.js';

export async function markHealthy(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
): Promise<void> {
  const em = ctx.orm.em.fork({ clear: true });
  em.setFilterParams(TENANT_FILTER, { tenantId });
  const now = ctx.now();
  await em.nativeUpdate(
    MailboxSchema,
    { id: mailboxId },
    {
      healthStatus: 'ok',
      lastError: null,
      consecutiveFailures: 0,
      lastSyncAt: now,
      updatedAt: now,
    },
  );
}

/** Records a failure and returns how many happened in a row. */
export async function markFailed(
  ctx: IntakeContext,
  tenantId: string,
  mailboxId: string,
  status: Extract<MailboxHealthStatus, 'failing' | 'auth-failed'>,
  error: unknown,
): Promise<number> {
  const em = ctx.orm.em.fork({ clear: true });
  em.setFilterParams(TENANT_FILTER, { tenantId });
  return em.transactional(async (tx) => {
    const mailbox = await tx.findOne(MailboxSchema, { id: mailboxId });
    if (!mailbox) return 0;
    mailbox.healthStatus = status;
    mailbox.lastError = describeError(error);
    mailbox.consecutiveFailures += 1;
    mailbox.updatedAt = ctx.now();
    return mailbox.consecutiveFailures;
  });
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const response = (error as { responseText?: string }).responseText;
  const code = (error as { code?: string }).code;
  return [code, error.message, response].filter(Boolean).join(': ').slice(0, 1000);
}
