export { originalAttachment, originalMessageOf, parsePec } from './parser/parse.js';
export type { AttachmentContent } from './parser/outline.js';
export type {
  Address,
  AttachmentInfo,
  EnvelopeKind,
  InnerMessage,
  ParseOptions,
  PecEnvelope,
  Profile,
} from './parser/types.js';
export type { CertData, Destinatario, ReceiptType } from './daticert/types.js';
export type { DeliveryEvent, DeliveryEventType } from './events/types.js';
export { isPecTipo, PEC_TIPI, type PecTipo } from './events/pec.js';
export { speaksPerRecipient } from './events/scope.js';
export type { RemEvidenceType } from './rem/evidence.js';
export {
  loadTrustAnchors,
  type TrustAnchors,
  type TrustAnchorSource,
} from './signature/anchors.js';
export type { SignatureCheck, SignatureStatus, SignerIdentity } from './signature/types.js';
export { NO_TRUST_ANCHORS } from './signature/verify.js';
export * from './send/index.js';
export {
  createPecConnector,
  PEC_CONNECTOR_TYPE,
  PecSendInput,
  type PecOutbox,
  type PecSendRequest,
  type PecSendResult,
} from './connector.js';
export {
  ParsePool,
  ParsePoolClosedError,
  ParseWorkerError,
  type ParsePoolOptions,
  type ParseRequestOptions,
} from './pool/parse-pool.js';
