/**
 * One pass over a mailbox's watched folders. A folder the server will not open or read (a typo,
 * a folder the provider renamed) does not hold up the others: it comes back as a problem that
 * names it, for the mailbox health, and is tried again at the next pass.
 */
import type { ImapFlow } from 'imapflow';
import type { FolderProblem, Mailbox } from '../store/entities/mailbox.js';
import type { IntakeContext } from './context.js';
import { syncFolder, type FolderSyncResult } from './folder-sync.js';
import { WithheldMessageError } from './withheld.js';

export type { FolderProblem };

export interface PassOutcome {
  results: FolderSyncResult[];
  problems: FolderProblem[];
}

export async function syncPass(
  ctx: IntakeContext,
  client: ImapFlow,
  mailbox: Mailbox,
): Promise<PassOutcome> {
  const outcome: PassOutcome = { results: [], problems: [] };
  const primary = primaryFolder(mailbox.folders);
  let endsOnPrimary = false;
  for (const folder of mailbox.folders) {
    const read = await syncOrReport(ctx, client, mailbox, folder, outcome);
    endsOnPrimary = read && folder === primary;
  }
  // IDLE only watches the selected folder: the pass ends on the one new mail lands in, read once
  // more, which also fetches what reached it while the other folders were read.
  if (!endsOnPrimary && !outcome.problems.some((p) => p.folder === primary))
    await syncOrReport(ctx, client, mailbox, primary, outcome);
  return outcome;
}

/** Where providers deliver new mail: INBOX when watched, else the first folder listed. */
export function primaryFolder(folders: string[]): string {
  return folders.find((f) => isInbox(f)) ?? folders[0]!;
}

/** IMAP folder names are case-sensitive, but for INBOX (RFC 3501 §5.1). */
export function sameFolder(a: string, b: string): boolean {
  return a === b || (isInbox(a) && isInbox(b));
}

const isInbox = (folder: string) => folder.toUpperCase() === 'INBOX';

/** True when the folder was read; a folder-level refusal is recorded, anything else is thrown. */
async function syncOrReport(
  ctx: IntakeContext,
  client: ImapFlow,
  mailbox: Mailbox,
  folder: string,
  outcome: PassOutcome,
): Promise<boolean> {
  try {
    outcome.results.push(await syncFolder(ctx, client, mailbox, folder));
    return true;
  } catch (error) {
    const reason = folderProblem(client, folder, error);
    if (!reason) throw error;
    outcome.problems.push({ folder, reason });
    ctx.log.warn({ mailboxId: mailbox.id, folder, err: error }, reason);
    return false;
  }
}

/**
 * A command the server refused (NO/BAD) on a connection that is still usable concerns that
 * folder only; a lost connection or a failed commit concerns the whole pass and is not one.
 */
function folderProblem(client: ImapFlow, folder: string, error: unknown): string | null {
  if (error instanceof WithheldMessageError && client.usable) return error.message;
  const refusal = error as {
    responseStatus?: string;
    responseText?: string;
    mailboxMissing?: boolean;
  } | null;
  if (!client.usable || !['NO', 'BAD'].includes(refusal?.responseStatus ?? '')) return null;
  // imapflow asks LIST after a refused SELECT and marks the error when the folder is not there.
  if (refusal?.mailboxMissing) return `folder "${folder}" does not exist on the server`;
  return `folder "${folder}" could not be read: ${refusal?.responseText ?? (error as Error).message}`;
}
