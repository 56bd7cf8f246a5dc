import type { DeliveryEvent, DeliveryEventType } from '../events/types.js';
import {
  asNode,
  childByLocalName,
  localName,
  parseXmlDocument,
  textOf,
  unescapeXml,
  type XmlNode,
} from '../xml/hardened.js';

/** The namespace of ERDS evidence (ETSI EN 319 522-2). */
export const ERDS_NAMESPACE = 'http://uri.etsi.org/19522/v1#';

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
  checkNamespace(rootName, root, problems);
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
        at: eventTimeOf(root, problems),
        reason: reasonOf(root),
      }
    : null;
  return {
    type,
    event,
    uaMessageIdentifier: textOf(childByLocalName(root, 'UAMessageIdentifier')),
  };
}

/**
 * Evidence in another namespace is not ERDS evidence as EN 319 522 defines it: its elements may
 * mean something else. It is still read by local name (tolerant, as daticert is), but said.
 */
function checkNamespace(rootName: string, root: XmlNode, problems: string[]): void {
  const namespace = namespaceOf(rootName, root);
  if (namespace === ERDS_NAMESPACE) return;
  problems.push(
    `REM evidence <${rootName}> is in ${namespace === null ? 'no namespace' : `namespace "${namespace}"`}, not the ERDS namespace ${ERDS_NAMESPACE}: read as ERDS all the same`,
  );
}

/**
 * The namespace URI of the root element: the one its prefix (or, unprefixed, the default) is
 * bound to. Nothing encloses the root, so the declaration can only be on the root itself.
 */
function namespaceOf(rootName: string, root: XmlNode): string | null {
  const colon = rootName.indexOf(':');
  const declaration = colon < 0 ? 'xmlns' : `xmlns:${rootName.slice(0, colon)}`;
  const value = asNode(root['@'])?.[declaration];
  return typeof value === 'string' && value !== '' ? unescapeXml(value) : null;
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
  if (details !== undefined)
    collectAddresses('RecipientDetails', details, { addresses, problems, depth: 0 });
  return addresses;
}

/**
 * How deep under RecipientDetails addresses are looked for. EN 319 522 writes them two or three
 * levels down; a document nested thousands deep would otherwise overflow the stack and lose the
 * whole message to `unparseable` for one part.
 */
const ADDRESS_DEPTH = 16;

interface AddressSearch {
  addresses: string[];
  problems: string[];
  depth: number;
}

/**
 * Every address written under `name`, into `addresses`. An ElectronicAddress with none is named in
 * `problems`: dropped silently, its recipient would wait for a delivery nobody reports.
 */
function collectAddresses(name: string, value: unknown, search: AddressSearch): void {
  const { addresses, problems, depth } = search;
  if (Array.isArray(value)) {
    for (const item of value) collectAddresses(name, item, search);
    return;
  }
  if (depth > ADDRESS_DEPTH) {
    const note = `REM evidence <RecipientDetails> is nested deeper than ${ADDRESS_DEPTH} levels: what is below is not read`;
    if (!problems.includes(note)) problems.push(note);
    return;
  }
  const found = addresses.length;
  const text = textOf(value);
  const address = text === null ? null : addressIn(text);
  if (address) addresses.push(address);
  const node = asNode(value);
  if (node)
    for (const [key, child] of Object.entries(node))
      if (key !== '@' && key !== '#text')
        collectAddresses(key, child, { addresses, problems, depth: depth + 1 });
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

/**
 * The certified time of the event, as ISO 8601 UTC. EventTime is optional: absent, it is null and
 * nothing is said. Written but not a full xs:dateTime, it is null and named in `problems`, as a
 * malformed daticert `<data>` is: a lenient reading (`new Date('1')` is 1 January 2001) would
 * certify a time nobody certified.
 */
function eventTimeOf(root: XmlNode, problems: string[]): string | null {
  const element = childByLocalName(root, 'EventTime');
  if (element === undefined) return null;
  const written = textOf(element) ?? '';
  const time = xsDateTime(written);
  if (time === null)
    problems.push(
      `REM evidence <EventTime> "${written.slice(0, 64)}" is not an xs:dateTime with a time zone (YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)): no certified time`,
    );
  return time;
}

/** xs:dateTime with the time zone an instant needs; white space around it is collapsed away (XSD). */
const XS_DATE_TIME =
  /^\s*(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})T(?<hour>\d{2}):(?<minute>\d{2}):(?<second>\d{2})(?:\.(?<fraction>\d+))?(?:Z|(?<sign>[+-])(?<zoneHour>\d{2}):(?<zoneMinute>\d{2}))\s*$/;

/**
 * The instant `text` names, as ISO 8601 UTC to the millisecond (a longer fraction is cut); null
 * when it is no xs:dateTime with a time zone, or names no real date and time (30 February, 25:00).
 */
function xsDateTime(text: string): string | null {
  const fields = XS_DATE_TIME.exec(text)?.groups;
  if (!fields) return null;
  const field = (name: string) => Number(fields[name] ?? 0);
  const [year, month, day] = [field('year'), field('month'), field('day')];
  const [hour, minute, second] = [field('hour'), field('minute'), field('second')];
  const [zoneHour, zoneMinute] = [field('zoneHour'), field('zoneMinute')];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (zoneMinute > 59 || zoneHour * 60 + zoneMinute > 14 * 60) return null;
  const offsetMinutes = (fields.sign === '-' ? -1 : 1) * (zoneHour * 60 + zoneMinute);
  const milliseconds = Number((fields.fraction ?? '').padEnd(3, '0').slice(0, 3));
  const instant = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC takes the years 0–99 for 1900–1999.
  instant.setUTCFullYear(year, month - 1, day);
  instant.setUTCHours(hour, minute - offsetMinutes, second, milliseconds);
  return instant.toISOString();
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}
