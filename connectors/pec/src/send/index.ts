export { composePec, newMessageId, validateOutgoing, OutgoingPecError } from './compose.js';
export type { ComposedPec, OutgoingAttachment, OutgoingPec } from './compose.js';
export { createPecTransport, PecSendError } from './transport.js';
export type {
  PecTransport,
  RecipientRefusal,
  SmtpSettings,
  SubmissionResult,
} from './transport.js';
export { certificateAdvice, mailTlsOptions } from './trust.js';
