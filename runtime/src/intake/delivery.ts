/**
 * The delivery state of one recipient of a message we sent, moved by receipts:
 * submitted → accepted → delivered / failed / timeout. Receipts may arrive out of order
 * (a delivery before its acceptance) and twice; a state never moves backwards, and a final
 * answer (delivered, failed) is not undone by a late warning. Pure.
 */
import type { DeliveryEvent } from '@pectrack/connector-pec';
import type { DeliveryStatus } from '../store/entities/message.js';

const RANK: Record<DeliveryStatus, number> = {
  submitted: 0,
  accepted: 1,
  timeout: 2,
  delivered: 3,
  failed: 3,
};

/** The status an event stands for; relayed (presa in carico) and anomalies move nothing. */
export function statusOfEvent(type: DeliveryEvent['type']): DeliveryStatus | null {
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

export function nextStatus(current: DeliveryStatus, incoming: DeliveryStatus): DeliveryStatus {
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/**
 * The message's state over its recipients: any failure shows first (someone must act), then
 * a pending timeout, then the least advanced of the rest.
 */
export function messageStatus(recipients: DeliveryStatus[]): DeliveryStatus {
  if (recipients.length === 0) return 'submitted';
  if (recipients.includes('failed')) return 'failed';
  if (recipients.includes('timeout')) return 'timeout';
  if (recipients.every((s) => s === 'delivered')) return 'delivered';
  return recipients.includes('submitted') ? 'submitted' : 'accepted';
}

/**
 * Which of our recipients an event concerns. Acceptance and non-acceptance name every
 * recipient; a delivery receipt names one. Addresses compare case-insensitively.
 */
export function affectedRecipients(event: DeliveryEvent, ours: string[]): string[] {
  if (event.recipients.length === 0) return ours;
  const named = new Set(event.recipients.map((r) => r.toLowerCase()));
  return ours.filter((address) => named.has(address.toLowerCase()));
}
