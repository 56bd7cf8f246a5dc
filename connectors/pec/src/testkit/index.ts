export {
  createTestCa,
  toPem,
  type SigningIdentity,
  type TestCa,
  type TestCaOptions,
  type TlsServerIdentity,
} from './ca.js';
export { createTestProvider, providerAddress, type TestProvider } from './provider.js';
export { buildOriginalMessage, type OriginalMessage, type TestAttachment } from './original.js';
export {
  prepareSubmission,
  replaceMessageId,
  type Submission,
  type SubmissionOptions,
} from './submission.js';
export { buildDaticert, type DaticertOptions, type DaticertRecipient } from './daticert.js';
export { buildCertifiedMessage, type CertifiedMessageSpec } from './certified.js';
export {
  buildAnomalyEnvelope,
  buildTransportEnvelope,
  type AnomalyEnvelopeOptions,
  type TransportEnvelopeOptions,
} from './envelope.js';
export {
  buildAccettazione,
  buildAvvenutaConsegna,
  buildErroreConsegna,
  buildNonAccettazione,
  buildPreavvisoErroreConsegna,
  buildPresaInCarico,
  buildReceipt,
  buildRilevazioneVirus,
  toBreveOriginal,
  type ReceiptKind,
  type ReceiptOptions,
} from './receipts.js';
export { buildRemMessage, ERDS_NAMESPACE, type RemMessageOptions } from './rem.js';
export {
  signDetached,
  signEntity,
  type SignatureHash,
  type SignedEntity,
  type SignOptions,
} from './smime.js';
export {
  forwardMessage,
  wrapForMailingList,
  type ForwardOptions,
  type MailingListOptions,
} from './wrappers.js';
export {
  dovecotUnavailableReason,
  findDovecot,
  freePort,
  startDovecot,
  type DovecotServer,
  type DovecotTls,
  type DovecotUser,
} from './dovecot.js';
export { buildCorpus, type CorpusMessage, type CorpusOptions } from './corpus.js';
export { pick, seededRandom } from './random.js';
export {
  NO_FAULTS,
  SmtpFrontError,
  startSmtpFront,
  type ProcessedSubmission,
  type SmtpFront,
  type SmtpFrontFaults,
  type SmtpFrontOptions,
} from './smtp-front.js';
