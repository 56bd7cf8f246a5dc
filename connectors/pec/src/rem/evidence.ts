import type { DeliveryEvent, DeliveryEventType } from '../events/types.js';
import {
  asNode,
  childByLocalName,
  localName,
  parseXmlDocument,
  textOf,
  type XmlNode,
} from '../xml/hardened.js';

/** ERDS evidence types of ETSI EN 319 522-2 that REM (EN 319 532) messages carry. */
const EVENT_OF_EVIDENCE = {
  SubmissionAcceptance: 'accepted',
  SubmissionRejection: 'failed',
  RelayAcceptance: 'relayed',
  RelayRejection: 'failed',
  RelayFailure: 'failed',
  ContentConsignment: 'delivered',
  ContentConsignmentFailure: 'failed',
  ContentHandover: 'delivered',
  ContentHandoverFailure: 'failed',
  ConsignmentRejection: 'failed',
  RetrievalExpiration: 'timeout',
  ContentConsignmentExpiration: 'timeout',
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
  const event: DeliveryEvent | null = eventType
    ? {
        type: eventType,
        evidence: type,
        recipients: recipientsOf(root),
        // REM has no ordinary-mail recipients: every one is reached through an ERDS.
        external: [],
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

function recipientsOf(root: XmlNode): string[] {
  const details = childByLocalName(root, 'RecipientDetails');
  return details === undefined ? [] : [...collectAddresses(details)];
}

const ADDRESS = /^(mailto:)?([^\s@<>]+@[^\s@<>]+)$/i;

function* collectAddresses(value: unknown): Generator<string> {
  if (Array.isArray(value)) {
    for (const item of value) yield* collectAddresses(item);
    return;
  }
  const text = textOf(value);
  const match = text ? ADDRESS.exec(text.trim()) : null;
  if (match?.[2]) yield match[2];
  const node = asNode(value);
  if (!node) return;
  for (const [key, child] of Object.entries(node))
    if (key !== '@' && key !== '#text') yield* collectAddresses(child);
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
