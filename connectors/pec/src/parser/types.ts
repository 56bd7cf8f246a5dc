import type { CertData, ReceiptType } from '../daticert/types.js';
import type { PecTipo } from '../events/pec.js';
import type { RemEvidenceType } from '../rem/evidence.js';
import type { DeliveryEvent } from '../events/types.js';
import type { TrustAnchorSource } from '../signature/anchors.js';
import type { SignatureCheck } from '../signature/types.js';

/** Which rules the message follows: Italian PEC (DM 2 Nov 2005 / RFC 6109), ETSI REM, or neither. */
export type Profile = 'PEC-2005' | 'REM' | 'plain';

/**
 * A daticert `tipo`, `anomalia` (X-Trasporto: errore), `plain`, `unparseable`, a REM evidence
 * type (`SubmissionAcceptance`...), or `rem-message` for a REM message without a known evidence.
 */
export type EnvelopeKind =
  PecTipo | 'anomalia' | 'plain' | 'unparseable' | 'rem-message' | RemEvidenceType;

export interface Address {
  address: string;
  name: string;
}

export interface AttachmentInfo {
  filename: string | null;
  contentType: string;
  /** The charset its Content-Type declares, lower case; null when none (see declaredCharset). */
  charset: string | null;
  size: number;
  sha256: string;
  /** A breve delivery receipt replaces each attachment by `<filename>.hash` holding its SHA-1. */
  hashOf?: { filename: string; sha1: string };
}

/** The message the sender wrote (postacert.eml, the REM original, or a plain message itself). */
export interface InnerMessage {
  subject: string | null;
  from: Address | null;
  to: Address[];
  cc: Address[];
  /** ISO 8601 UTC. */
  date: string | null;
  messageId: string | null;
  /** Absent when the parse was an outline (`inner: 'outline'`): the bodies were not decoded. */
  text?: string;
  html?: string;
  attachments: AttachmentInfo[];
}

export interface PecEnvelope {
  kind: EnvelopeKind;
  profile: Profile;
  /** The provider's id of this message, no angle brackets: daticert identificativo, else Message-ID. */
  providerId: string | null;
  /** The sender client's Message-ID (X-Riferimento-Message-ID / msgid / REM-UAMessageIdentifier), with angle brackets. */
  originalMessageId: string | null;
  receiptType: ReceiptType | null;
  certData: CertData | null;
  signature: SignatureCheck;
  inner: InnerMessage | null;
  event: DeliveryEvent | null;
  /** A certified message forwarded inside this one, parsed to a bounded depth. */
  nested: PecEnvelope | null;
  problems: string[];
}

export interface ParseOptions {
  /** Certificates a provider signature must chain to for status `valid` (PEM/DER, or `loadTrustAnchors`). */
  trustAnchors?: TrustAnchorSource;
  /** How many forwarded envelopes deep `nested` goes (default 8). */
  maxDepth?: number;
  /**
   * How the inner message is read. `full` (default): bodies decoded by mailparser. `outline`:
   * header fields and the attachment list only, several times cheaper — what intake stores.
   */
  inner?: 'full' | 'outline';
  /**
   * When the message was received (the IMAP INTERNALDATE, or when it was first stored): the
   * signer's certificates must be valid then. Default: now. Never the signature's own
   * signingTime, which whoever holds the key writes.
   */
  receivedAt?: Date;
}
