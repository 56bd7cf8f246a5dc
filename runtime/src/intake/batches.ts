/** Splits the UIDs to fetch into batches bounded by count and bytes. Pure. */
export interface PendingMessage {
  uid: number;
  size: number;
  /** When the mailbox received it (IMAP INTERNALDATE); absent when the server gave none. */
  receivedAt?: Date;
}

export function planBatches(
  pending: PendingMessage[],
  maxMessages: number,
  maxBytes: number,
): PendingMessage[][] {
  const batches: PendingMessage[][] = [];
  let current: PendingMessage[] = [];
  let bytes = 0;
  for (const message of pending) {
    if (current.length > 0 && (current.length >= maxMessages || bytes + message.size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += message.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface ListWindow {
  /** The UID range to list: `from:to`, or `from:*` for the last window. */
  range: string;
  /** The window's last UID; Infinity for the open-ended last window. */
  to: number;
}

/**
 * The next UID range to list from `from`: `span` UIDs, or everything from `from` (`from:*`) once
 * the window would reach `uidNext` or when the server gave none. The last window being
 * open-ended, messages the server announced after the SELECT that gave `uidNext` are listed
 * too (imapflow does not move UIDNEXT on EXISTS). Pure.
 */
export function listWindow(from: number, span: number, uidNext: number | undefined): ListWindow {
  if (uidNext === undefined || from + span >= uidNext) return { range: `${from}:*`, to: Infinity };
  return { range: `${from}:${from + span - 1}`, to: from + span - 1 };
}

/** A compact IMAP UID set (`1:5,9,12:14`) for a sorted list of UIDs. */
export function uidSet(uids: number[]): string {
  const parts: string[] = [];
  let start = uids[0];
  let previous = start;
  for (const uid of uids.slice(1).concat(Number.NaN)) {
    if (uid === (previous as number) + 1) {
      previous = uid;
      continue;
    }
    if (start !== undefined) parts.push(start === previous ? `${start}` : `${start}:${previous}`);
    start = uid;
    previous = uid;
  }
  return parts.join(',');
}

export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}
