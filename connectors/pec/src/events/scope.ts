/**
 * Whether an event speaks for the recipients it names only, or for the message as a whole.
 * PEC sends one delivery-side receipt per recipient (`<consegna>` names it) and REM one piece of
 * evidence per recipient past the submission (EN 319 522: relay, consent, consignment, handover,
 * gateways): such an event naming no recipient names no one, it does not mean everyone.
 */
import { isRemEvidenceType } from '../rem/evidence.js';
import { PER_RECIPIENT_TIPI } from './pec.js';

/** REM evidence about the message as a whole: the sender's ERDS taking it or not, and anomalies. */
const REM_MESSAGE_LEVEL: ReadonlySet<string> = new Set([
  'SubmissionAcceptance',
  'SubmissionRejection',
  'ReceivedFromNonERDS',
]);

export function speaksPerRecipient(evidence: string): boolean {
  if (PER_RECIPIENT_TIPI.has(evidence)) return true;
  return isRemEvidenceType(evidence) && !REM_MESSAGE_LEVEL.has(evidence);
}
