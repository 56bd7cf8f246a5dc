import type { DeliveryEvent, DeliveryEventType } from '../events/types.js';
import {
  asNode,
  childByLocalName,
  localName,
  parseXmlDocument,
  textOf,
  type XmlNode,
} from '../xml/hardened.js';

/**
 * ERDS evidence types of ETSI EN 319 522 (events A–F of part 1, named as in part 3) that REM
 * (EN 319 532) messages carry, each with the delivery event it stands for and why. `timeout` is
 * a warning (a second one fails the recipient), so an evidence that is final is `failed`.
 */
const EVENT_OF_EVIDENCE = {
  // A: submission. The sender's ERDS took the message, or refused it.
  SubmissionAcceptance: 'accepted',
  SubmissionRejection: 'failed',
  // B: relay between ERDSs. The recipient's ERDS took it (PEC presa in carico), or it was lost.
  RelayAcceptance: 'relayed',
  RelayRejection: 'failed',
  RelayFailure: 'failed',
  // C: consent mode. The recipient was told a message awaits their consent: reached, not delivered.
  NotificationForAcceptance: 'relayed',
  NotificationForAcceptanceFailure: 'failed',
  // The recipient accepted it: the content is released to them, as good as consigned.
  AcceptanceByRecipient: 'delivered',
  ConsignmentAcceptance: 'delivered',
  // The recipient refused it, or let the consent period run out: final, it will not be delivered.
  RejectionByRecipient: 'failed',
  ConsignmentRejection: 'failed',
  AcceptanceRejectionExpiry: 'failed',
  // D: consignment to the recipient's mailbox (PEC avvenuta consegna), or the failure to.
  ContentConsignment: 'delivered',
  ContentConsignmentFailure: 'failed',
  // The recipient could not be told the content is there: the delivery did not reach them.
  ConsignmentNotificationFailure: 'failed',
  // E: handover to the recipient in person.
  ContentHandover: 'delivered',
  ContentHandoverFailure: 'failed',
  // Not in EN 319 522's list, kept as they were mapped: not collected in time, a warning.
  RetrievalExpiration: 'timeout',
  ContentConsignmentExpiration: 'timeout',
  // F: gateways to ordinary mail. Handed to a non-ERDS system: nothing further is certified.
  RelayToNonERDS: 'relayed',
  RelayToNonERDSFailure: 'failed',
  // Evidence that ordinary (non-certified) mail came in through a gateway: PEC's anomaly envelope.
  ReceivedFromNonERDS: 'anomaly',
} as const satisfies Record<string, DeliveryEventType>;

export type RemEvidenceType = keyof typeof EVENT_OF_EVIDENCE;

export function isRemEvidenceType(value: string): value is RemEvidenceType {
  return Object.hasOwn(EVENT_OF_EVIDENCE, value);
}

export interface RemEvidence {
  /** The evidence name as found; a known one when `event` is set. */
  type: string;
  event: DeliveryEvent | null;
  uaMessageIdentifier: string | null;
}

/**
 * Reads an ERDS evidence document. The evidence type is the root element's name, or, for an
 * envelope-style `<Evidence>`, the last segment of its `EventCode`/`EvidenceType` URI.
 */
export function parseRemEvidence(bytes: Buffer, problems: string[]): RemEvidence | null {
  const document = parseXmlDocument(bytes, 'REM evidence', [], problems);
  if (!document) return null;
  const rootName = Object.keys(document).find((key) => !key.startsWith('?') && key !== '#text');
  const root = rootName ? asNode(document[rootName]) : null;
  if (!rootName || !root) {
    problems.push('REM evidence has no root element');
    return null;
  }
  const type = evidenceType(localName(rootName), root);
  const eventType = isRemEvidenceType(type) ? EVENT_OF_EVIDENCE[type] : null;
  if (!eventType) problems.push(`REM evidence type "${type}" is not known: no event derived`);
  const recipients = recipientsOf(root, problems);
  const event: DeliveryEvent | null = eventType
    ? {
        type: eventType,
        evidence: type,
        recipients,
        // RelayToNonERDS names as its recipients the ones it handed to ordinary mail (PEC's
        // `esterno`); no other evidence does.
        external: type === 'RelayToNonERDS' ? recipients : [],
        at: isoTime(textOf(childByLocalName(root, 'EventTime'))),
        reason: reasonOf(root),
      }
    : null;
  return {
    type,
    event,
    uaMessageIdentifier: textOf(childByLocalName(root, 'UAMessageIdentifier')),
  };
}

function evidenceType(rootName: string, root: XmlNode): string {
  if (isRemEvidenceType(rootName)) return rootName;
  const code =
    textOf(childByLocalName(root, 'EventCode')) ?? textOf(childByLocalName(root, 'EvidenceType'));
  return code ? (code.split(/[/#:]/).pop() ?? code) : rootName;
}

function recipientsOf(root: XmlNode, problems: string[]): string[] {
  const details = childByLocalName(root, 'RecipientDetails');
  const addresses: string[] = [];
  if (details !== undefined) collectAddresses('RecipientDetails', details, addresses, problems);
  return addresses;
}

/**
 * Every address written under `name`, into `addresses`. An ElectronicAddress with none is named in
 * `problems`: dropped silently, its recipient would wait for a delivery nobody reports.
 */
function collectAddresses(
  name: string,
  value: unknown,
  addresses: string[],
  problems: string[],
): void {
  if (Array.isArray(value)) {
    for (const item of value) collectAddresses(name, item, addresses, problems);
    return;
  }
  const found = addresses.length;
  const text = textOf(value);
  const address = text === null ? null : addressIn(text);
  if (address) addresses.push(address);
  const node = asNode(value);
  if (node)
    for (const [key, child] of Object.entries(node))
      if (key !== '@' && key !== '#text') collectAddresses(key, child, addresses, problems);
  if (addresses.length === found && localName(name) === 'ElectronicAddress')
    problems.push(`REM evidence <${name}> "${text ?? ''}" is not an e-mail address: left out`);
}

/** `a@x`, bare or as the `mailto:` URI EN 319 522 writes. */
const ADDRESS = /^(?:mailto:)?([^\s@<>]+@[^\s@<>]+)$/i;
/** `Ufficio Tecnico <a@x>`, as some providers write it: the address is in the closing brackets. */
const NAMED_ADDRESS = /<([^<>]*)>$/;

/**
 * The address `text` names, or null. Lower-cased, as the runtime keys recipients: the evidence
 * must find the recipient we sent to however the provider spelled it.
 */
function addressIn(text: string): string | null {
  const written = text.trim();
  const address = NAMED_ADDRESS.exec(written)?.[1] ?? written;
  return ADDRESS.exec(address)?.[1]?.toLowerCase() ?? null;
}

function reasonOf(root: XmlNode): string | null {
  const reasons = asNode(childByLocalName(root, 'EventReasons'));
  const reason = asNode(
    reasons ? childByLocalName(reasons, 'EventReason') : childByLocalName(root, 'EventReason'),
  );
  if (!reason) return null;
  const parts = [
    textOf(childByLocalName(reason, 'Code')),
    textOf(childByLocalName(reason, 'Details')),
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' - ') : null;
}

function isoTime(value: string | null): string | null {
  if (!value) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time.toISOString();
}
