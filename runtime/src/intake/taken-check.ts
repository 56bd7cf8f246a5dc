/**
 * A submission whose caller died before recording the provider's answer (a crash, a killed
 * node) holds its message for the submission lease; past it, a retry would submit the same
 * bytes again and the provider would certify a second message. Whether the provider took the
 * first is told by its receipts, which reach the sender's mailbox within seconds of the
 * submission but may not have been read yet: before submitting again, the mailbox is searched
 * for a certified receipt that refers to the message. Best effort: a mailbox that cannot be
 * searched leaves the retry to submit, as before.
 */
import type { PecEnvelope } from '@pectrack/connector-pec';
import type { Mailbox } from '../store/entities/mailbox.js';
import type { IntakeContext } from './context.js';
import { receiptDoubtOf } from './facts.js';
import { imapClient, imapSettingsOf } from './imap.js';

/** Where a certified receipt for `messageId` is in the mailbox (e.g. `accettazione, UID 7 of INBOX`), or null. */
export async function receiptInMailbox(
  ctx: IntakeContext,
  mailbox: Mailbox,
  messageId: string,
): Promise<string | null> {
  const client = imapClient(imapSettingsOf(mailbox, ctx));
  try {
    await client.connect();
    for (const folder of mailbox.folders) {
      const found = await searchFolder(ctx, client, folder, messageId);
      if (found) return found;
    }
    return null;
  } catch (error) {
    ctx.log.warn(
      { mailboxId: mailbox.id, messageId, err: error },
      'could not search the mailbox for receipts of a submission without an outcome; it is submitted again',
    );
    return null;
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function searchFolder(
  ctx: IntakeContext,
  client: ReturnType<typeof imapClient>,
  folder: string,
  messageId: string,
): Promise<string | null> {
  const lock = await client.getMailboxLock(folder, { readOnly: true });
  try {
    const uids = await client.search(
      { header: { 'X-Riferimento-Message-ID': messageId } },
      { uid: true },
    );
    for (const uid of uids || []) {
      const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
      if (!message || !message.source) continue;
      const envelope = await ctx.parse(message.source);
      if (certifiesTaking(envelope, messageId)) return `${envelope.kind}, UID ${uid} of ${folder}`;
    }
    return null;
  } finally {
    lock.release();
  }
}

/** A receipt the provider signed, about this message: it took it (a refusal is a receipt too, of a message it read). */
function certifiesTaking(envelope: PecEnvelope, messageId: string): boolean {
  const { event } = envelope;
  return (
    event !== null &&
    event.type !== 'anomaly' &&
    envelope.originalMessageId === messageId &&
    receiptDoubtOf(envelope) === null
  );
}
