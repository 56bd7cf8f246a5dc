/** Row counts straight from the database: what the assertions compare with what was sent. */
import { knexOf, type Orm } from '../../../src/store/orm.js';

export async function countMessages(
  orm: Orm,
  where: Record<string, unknown> = {},
): Promise<number> {
  const [row] = await knexOf(orm)('message').where(where).count({ n: '*' });
  return Number(row?.n ?? 0);
}

export async function distinctProviderIds(orm: Orm): Promise<number> {
  const [row] = await knexOf(orm)('message')
    .whereNotNull('provider_id')
    .countDistinct({ n: 'provider_id' });
  return Number(row?.n ?? 0);
}

export async function countIntakeEntries(orm: Orm): Promise<number> {
  const [row] = await knexOf(orm)('outbox').where({ kind: 'intake' }).count({ n: '*' });
  return Number(row?.n ?? 0);
}

export async function checkpointOf(orm: Orm, mailboxId: string, folder = 'INBOX') {
  return knexOf(orm)('mailbox_checkpoint').where({ mailbox_id: mailboxId, folder }).first();
}
