/**
 * A message the server lists but does not return whole (no content, or fewer bytes than the size
 * it listed), fetch after fetch. The folder's checkpoint cannot move past it, so the folder is
 * held before it and health names it, pass after pass. A server still settling a message sends
 * it soon; one whose copy is damaged never does, and the folder must not stay held for good
 * ("never blocks the mailbox", ARCHITECTURE §2): after `withheldPasses` passes over at least
 * `withheldMs` it is recorded without its content (what bytes came, if any), as a message a
 * person reads with another mail client, and the folder goes on.
 */
import type { MailboxCheckpoint } from '../store/entities/mailbox.js';
import type { PendingMessage } from './batches.js';
import type { IntakeLimits } from './context.js';
import { unparseableFacts, type MessageFacts } from './facts.js';
import type { FolderPosition } from './record.js';

/** The UID a folder is held at, since when, and how many passes stopped there. */
export interface WithheldMessage {
  uid: number;
  passes: number;
  since: Date;
}

/** A listed message not returned whole in this pass, with what came of it. */
export interface Unreturned extends PendingMessage {
  /** The bytes returned, fewer than listed; null when none came. */
  gotBytes: number | null;
}

export function withheldOf(checkpoint: MailboxCheckpoint | null): WithheldMessage | null {
  if (!checkpoint?.withheldUid || !checkpoint.withheldSince) return null;
  return {
    uid: checkpoint.withheldUid,
    passes: checkpoint.withheldPasses ?? 1,
    since: new Date(checkpoint.withheldSince),
  };
}

/** The hold after one more pass stopped at `uid`. */
export function heldAgain(
  earlier: WithheldMessage | null,
  uid: number,
  now: Date,
): WithheldMessage {
  return earlier?.uid === uid
    ? { uid, passes: earlier.passes + 1, since: earlier.since }
    : { uid, passes: 1, since: now };
}

/** Whether the folder has been held at `uid` long enough to record it without its content. */
export function heldLongEnough(
  limits: Pick<IntakeLimits, 'withheldPasses' | 'withheldMs'>,
  earlier: WithheldMessage | null,
  uid: number,
  now: Date,
): boolean {
  return (
    earlier?.uid === uid &&
    earlier.passes >= limits.withheldPasses &&
    now.getTime() - earlier.since.getTime() >= limits.withheldMs
  );
}

/** The folder problem a held folder is: health names the message and when it goes on. */
export class WithheldMessageError extends Error {
  constructor(
    readonly folder: string,
    readonly held: WithheldMessage,
    unreturned: Unreturned,
    limits: Pick<IntakeLimits, 'withheldPasses' | 'withheldMs'>,
  ) {
    super(
      `folder "${folder}" is held at UID ${held.uid}: the server lists it (${unreturned.size} bytes) but returned ${returnedText(unreturned)}, in ${held.passes} pass${held.passes === 1 ? '' : 'es'} since ${held.since.toISOString()}; after ${limits.withheldPasses} passes and ${Math.round(limits.withheldMs / 60_000)} minutes it is recorded without its content and the folder goes on`,
    );
    this.name = 'WithheldMessageError';
  }
}

/**
 * What is recorded for a message the folder was held at long enough: unparseable (a person
 * looks at it), under a key of its own (its place in the folder), so it neither stands for a
 * message of the same bytes nor is taken for one that comes whole later.
 */
/** The dedupe keys of messages recorded without their content start so (reparse leaves them be). */
export const WITHHELD_KEY_PREFIX = 'withheld:';

export function withheldFacts(
  sha256: string,
  position: FolderPosition,
  unreturned: Unreturned,
  held: WithheldMessage,
): MessageFacts {
  const facts = unparseableFacts(sha256, '');
  return {
    ...facts,
    dedupeKey: `${WITHHELD_KEY_PREFIX}${position.mailboxId}:${position.folder}:${position.uidValidity}:${unreturned.uid}`,
    summary: { withheld: { folder: position.folder, uid: unreturned.uid, size: unreturned.size } },
    problems: [
      `the IMAP server lists UID ${unreturned.uid} of folder "${position.folder}" (${unreturned.size} bytes) but returned ${returnedText(unreturned)} in ${held.passes} passes since ${held.since.toISOString()}: recorded without its content so that the folder goes on; read it with another mail client`,
    ],
  };
}

function returnedText(unreturned: Unreturned): string {
  return unreturned.gotBytes === null
    ? 'none of its content'
    : `only ${unreturned.gotBytes} of its bytes`;
}
