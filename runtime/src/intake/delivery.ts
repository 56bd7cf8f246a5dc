/**
 * The delivery state of one recipient of a message we sent, moved by receipts:
 * submitted → accepted → delivered / failed / timeout, or `external` for a recipient the
 * provider reached as ordinary mail (no delivery receipt will ever come for it). Receipts may
 * arrive out of order (a delivery before its acceptance) and twice; a state never moves
 * backwards, and a final answer (delivered, failed) is not undone by a late warning. Pure.
 */
import { speaksPerRecipient, type DeliveryEvent } from '@pectrack/connector-pec';
import type { DeliveryStatus } from '../store/entities/message.js';

const RANK: Record<DeliveryStatus, number> = {
  submitted: 0,
  accepted: 1,
  timeout: 2,
  delivered: 3,
  failed: 3,
  external: 3,
};

/** The status an event stands for; relayed (presa in carico) and anomalies move nothing. */
function statusOfEvent(type: DeliveryEvent['type']): DeliveryStatus | null {
  switch (type) {
    case 'submitted':
    case 'accepted':
    case 'delivered':
    case 'failed':
    case 'timeout':
      return type;
    default:
      return null;
  }
}

/**
 * The status an event brings one recipient: its own, or, for a recipient the event hands to
 * ordinary mail (REM RelayToNonERDS, a `relayed` event), an acceptance that ends `external`.
 */
export function statusFor(event: DeliveryEvent, external: boolean): DeliveryStatus | null {
  return statusOfEvent(event.type) ?? (external && event.type === 'relayed' ? 'accepted' : null);
}

export function nextStatus(current: DeliveryStatus, incoming: DeliveryStatus): DeliveryStatus {
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/** What one recipient's state is known from, besides the status itself. */
export interface RecipientFacts {
  /** The acceptance listed it `esterno`: reached as ordinary mail. */
  external: boolean;
  /**
   * Its `failed` comes from a receipt. A failure recorded only because the submission call
   * failed is not certified — the provider may have taken the message and its answer got
   * lost — so a receipt saying otherwise wins over it.
   */
  certifiedFailure: boolean;
  /**
   * The timeout warning coming in is one already recorded for it, sent again (the same
   * certified time): not the second, 24-hour warning that means failure.
   */
  repeatedWarning: boolean;
}

/**
 * Warnings this far apart are two (12 h and 24 h after the submission, docs/pec.md); closer
 * ones are the same warning again.
 */
const SECOND_WARNING_AFTER_MS = 6 * 3_600_000;

/** Whether a warning certified at `at` repeats one certified at any of `earlier`. */
export function repeatsWarning(at: string | null, earlier: (string | null)[]): boolean {
  const time = at === null ? Number.NaN : Date.parse(at);
  if (Number.isNaN(time)) return false;
  return earlier.some((other) => {
    const before = other === null ? Number.NaN : Date.parse(other);
    return !Number.isNaN(before) && Math.abs(time - before) < SECOND_WARNING_AFTER_MS;
  });
}

/** Why a second timeout warning fails the recipient (docs/pec.md: 12 h, then 24 h). */
export const SECOND_TIMEOUT_REASON =
  'second preavviso-errore-consegna: not delivered within 24 hours, the provider gives up';

/** A recipient's state after a receipt's status; `current` is what it had. */
export function recipientAfter(
  current: DeliveryStatus,
  incoming: DeliveryStatus,
  facts: RecipientFacts,
): DeliveryStatus {
  if (incoming === 'timeout' && current === 'timeout')
    return facts.repeatedWarning ? current : 'failed';
  const target = incoming === 'accepted' && facts.external ? 'external' : incoming;
  const from = current === 'failed' && !facts.certifiedFailure ? 'submitted' : current;
  return RANK[target] > RANK[from] ? target : current;
}

/**
 * The message's state over its recipients: any failure shows first (someone must act), then
 * a pending timeout, then the least advanced of the rest. Ordinary-mail recipients count only
 * when there is no certified one: then the message ends `external`.
 */
export function messageStatus(recipients: DeliveryStatus[]): DeliveryStatus {
  if (recipients.length === 0) return 'submitted';
  const certified = recipients.filter((s) => s !== 'external');
  if (certified.length === 0) return 'external';
  if (certified.includes('failed')) return 'failed';
  if (certified.includes('timeout')) return 'timeout';
  if (certified.every((s) => s === 'delivered')) return 'delivered';
  return certified.includes('submitted') ? 'submitted' : 'accepted';
}

/**
 * Which of our recipients an event concerns. Acceptance and non-acceptance name every
 * recipient, or none for the message as a whole; a delivery receipt (REM: evidence past the
 * submission) names one. One that names none (no `<consegna>`, no RecipientDetails) can only
 * mean the recipient of a message sent to one. Addresses compare case-insensitively.
 */
export function affectedRecipients(event: DeliveryEvent, ours: string[]): string[] {
  if (event.recipients.length === 0) {
    if (!speaksPerRecipient(event.evidence)) return ours;
    return ours.length === 1 ? ours : [];
  }
  const named = new Set(event.recipients.map((r) => r.toLowerCase()));
  return ours.filter((address) => named.has(address.toLowerCase()));
}
