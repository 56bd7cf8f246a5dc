/**
 * What the store keeps of a parsed envelope: the columns of a Message row and the short
 * summary the API lists. Pure: the same envelope always gives the same facts.
 */
import { isPecTipo, NO_TRUST_ANCHORS, type PecEnvelope } from '@pectrack/connector-pec';
import type { Message } from '../store/entities/message.js';

export interface MessageFacts {
  kind: string;
  providerId: string | null;
  /** The dedupe key: provider id when the message has one, otherwise the content hash. */
  dedupeKey: string;
  messageId: string | null;
  originalMessageId: string | null;
  subject: string | null;
  sender: string | null;
  recipients: string[];
  signatureStatus: string | null;
  summary: Record<string, unknown>;
  problems: string[];
  /** A transport envelope: it opens a case, so it leaves one intake outbox entry. */
  certifiedIncoming: boolean;
  /**
   * A REM message carrying the sender's original message. REM has no envelope kind of its own
   * for a dispatch (it comes with evidence, e.g. SubmissionAcceptance): it is a dispatch to us,
   * and opens a case, unless its evidence is about a message we sent (then it is that
   * message's receipt). Only the commit can tell (opensCase).
   */
  remDispatch: boolean;
  /**
   * Why a receipt does not move the message it refers to (its signature is missing, broken, or
   * by a signer the configured anchors do not trust); null when it does, or is no receipt.
   */
  receiptDoubt: string | null;
}

/** The Message columns a reading fills, named alike in MessageFacts and on the row. */
export const READ_COLUMNS = [
  'kind',
  'providerId',
  'messageId',
  'originalMessageId',
  'subject',
  'sender',
  'recipients',
  'signatureStatus',
  'summary',
  'problems',
] as const satisfies readonly (keyof MessageFacts & keyof Message)[];

export type ReadColumns = Pick<MessageFacts, (typeof READ_COLUMNS)[number]>;

/** The values of READ_COLUMNS in a reading's facts or a stored row. */
export function readColumnsOf(source: ReadColumns): ReadColumns {
  return Object.fromEntries(READ_COLUMNS.map((name) => [name, source[name]])) as ReadColumns;
}

/** Whether a stored message opens a case, once it is known whether it referred to a message we sent. */
export function opensCase(facts: MessageFacts, aboutOurMessage: boolean): boolean {
  return facts.certifiedIncoming || (facts.remDispatch && !aboutOurMessage);
}

/** Kinds that are receipts about a message someone sent (PEC tipi and REM evidence alike). */
export function isReceipt(envelope: PecEnvelope): boolean {
  return envelope.event !== null && envelope.event.type !== 'anomaly';
}

/**
 * A receipt kind that only the unsigned headers name (the parser gives it no event): it
 * certifies nothing, but the message it points at keeps a trace that one came.
 */
function namedByHeadersOnly(envelope: PecEnvelope): boolean {
  return (
    envelope.event === null &&
    envelope.kind !== 'posta-certificata' &&
    isPecTipo(envelope.kind) &&
    envelope.originalMessageId !== null
  );
}

export function dedupeKeyOf(providerId: string | null, sha256: string): string {
  return providerId ? `id:${providerId}` : `sha256:${sha256}`;
}

/**
 * A receipt has legal value because the provider signed it: one that is unsigned, does not
 * verify, or is signed by someone the configured trust anchors do not know could be forged by
 * anyone who can put mail in the mailbox, and must not certify a delivery. With no anchors
 * configured (the embedded default) an intact signature is all there is to go by.
 */
export function receiptDoubtOf(envelope: PecEnvelope): string | null {
  if (namedByHeadersOnly(envelope))
    return `its headers alone call it ${envelope.kind}: no signed daticert says so`;
  if (!isReceipt(envelope)) return null;
  const { status, reason } = envelope.signature;
  if (status === 'valid') return null;
  if (status === 'intact-untrusted')
    return reason === NO_TRUST_ANCHORS
      ? null
      : `its signer is not trusted by the configured anchors (${reason ?? 'untrusted'})`;
  if (status === 'unsigned') return 'it is not signed';
  return `its signature does not verify (${reason ?? 'invalid'})`;
}

export function factsOf(envelope: PecEnvelope, sha256: string): MessageFacts {
  const receiptDoubt = receiptDoubtOf(envelope);
  const inner = envelope.inner;
  const cert = envelope.certData;
  const sender = cert?.mittente ?? inner?.from?.address ?? null;
  const recipients = cert
    ? cert.destinatari.map((d) => d.address)
    : (inner?.to.map((a) => a.address) ?? []);
  return {
    kind: envelope.kind,
    providerId: envelope.providerId,
    dedupeKey: dedupeKeyOf(envelope.providerId, sha256),
    messageId: inner?.messageId ?? null,
    originalMessageId: envelope.originalMessageId,
    subject: cert?.oggetto ?? inner?.subject ?? null,
    sender,
    recipients,
    signatureStatus: envelope.signature.status,
    summary: {
      profile: envelope.profile,
      receiptType: envelope.receiptType,
      certData: cert,
      event: envelope.event,
      innerDate: inner?.date ?? null,
      attachments: (inner?.attachments ?? []).map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        size: a.size,
      })),
      signer: envelope.signature.signer?.email ?? null,
      signatureReason: envelope.signature.reason ?? null,
      nestedKind: envelope.nested?.kind ?? null,
    },
    problems: receiptDoubt
      ? [...envelope.problems, `receipt not applied to the message it refers to: ${receiptDoubt}`]
      : envelope.problems,
    certifiedIncoming: envelope.kind === 'posta-certificata',
    remDispatch:
      envelope.profile === 'REM' && envelope.inner !== null && envelope.kind !== 'unparseable',
    receiptDoubt,
  };
}

/** The facts of a message the parser itself could not handle (it threw): stored, never lost. */
export function unparseableFacts(sha256: string, reason: string): MessageFacts {
  return {
    kind: 'unparseable',
    providerId: null,
    dedupeKey: dedupeKeyOf(null, sha256),
    messageId: null,
    originalMessageId: null,
    subject: null,
    sender: null,
    recipients: [],
    signatureStatus: null,
    summary: {},
    problems: [`parser failed: ${reason}`],
    certifiedIncoming: false,
    remDispatch: false,
    receiptDoubt: null,
  };
}
