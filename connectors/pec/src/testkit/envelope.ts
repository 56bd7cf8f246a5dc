import { buildCertifiedMessage, noticeTime } from './certified.js';
import { buildDaticert, escape } from './daticert.js';
import type { HeaderLines } from './mime.js';
import { providerAddress, type TestProvider } from './provider.js';
import type { SignatureHash } from './smime.js';
import { prepareSubmission, type Submission, type SubmissionOptions } from './submission.js';
import type { OriginalMessage } from './original.js';

export interface TransportEnvelopeOptions {
  provider: TestProvider;
  submission: Submission;
  hash?: SignatureHash;
  daticertFirst?: boolean;
}

/**
 * The transport envelope the recipient receives: Message-ID = identificativo, the client's id in
 * X-Riferimento-Message-ID, the original (with its Message-ID replaced) as postacert.eml.
 */
export function buildTransportEnvelope(options: TransportEnvelopeOptions): Buffer {
  const { provider, submission } = options;
  const headers: HeaderLines = [
    ['X-Riferimento-Message-ID', submission.clientMessageId],
    ['X-Trasporto', 'posta-certificata'],
    ['Message-ID', `<${submission.identificativo}>`],
    ['From', `"Per conto di: ${submission.sender}" <${providerAddress(provider)}>`],
    ['Reply-To', submission.sender],
    ['To', submission.to.join(', ')],
  ];
  if (submission.cc.length > 0) headers.push(['Cc', submission.cc.join(', ')]);
  headers.push(['Subject', `POSTA CERTIFICATA: ${submission.subject}`]);
  if (submission.receiptType !== 'completa')
    headers.push(['X-TipoRicevuta', submission.receiptType]);
  const notice = transportNotice(submission);
  return buildCertifiedMessage({
    provider,
    date: submission.date,
    headers,
    notice,
    noticeHtml: `<html><body><pre>${escape(notice)}</pre></body></html>`,
    postacert: submission.postacert,
    daticert: buildDaticert({
      tipo: 'posta-certificata',
      mittente: submission.sender,
      destinatari: submission.recipients,
      risposte: submission.sender,
      oggetto: submission.subject,
      gestoreEmittente: provider.name,
      date: submission.date,
      identificativo: submission.identificativo,
      msgid: submission.clientMessageId,
    }),
    ...(options.daticertFirst === undefined ? {} : { daticertFirst: options.daticertFirst }),
    ...(options.hash ? { hash: options.hash } : {}),
  });
}

function transportNotice(submission: Submission): string {
  return [
    'Messaggio di posta certificata',
    '',
    `Il giorno ${noticeTime(submission.date)} il messaggio`,
    `"${submission.subject}" è stato inviato da "${submission.sender}"`,
    'indirizzato a:',
    ...submission.recipients.map((r) => r.address),
    'Il messaggio originale è incluso in allegato.',
    `Identificativo messaggio: ${submission.identificativo}`,
  ].join('\n');
}

export interface AnomalyEnvelopeOptions {
  provider: TestProvider;
  /** The non-certified message that reached the PEC box. */
  message: OriginalMessage | Buffer;
  recipients?: SubmissionOptions['recipients'];
  identificativo?: string;
  date?: Date;
  hash?: SignatureHash;
}

/** Ordinary mail arriving at a PEC box: X-Trasporto: errore, postacert.eml only, NO daticert. */
export function buildAnomalyEnvelope(options: AnomalyEnvelopeOptions): Buffer {
  const { provider } = options;
  const submission = prepareSubmission({ ...options });
  const headers: HeaderLines = [
    ['X-Riferimento-Message-ID', submission.clientMessageId],
    ['X-Trasporto', 'errore'],
    ['Message-ID', `<${submission.identificativo}>`],
    ['From', `"Per conto di: ${submission.sender}" <${providerAddress(provider)}>`],
    ['Reply-To', submission.sender],
    ['To', submission.to.join(', ')],
    ['Subject', `ANOMALIA MESSAGGIO: ${submission.subject}`],
  ];
  return buildCertifiedMessage({
    provider,
    date: submission.date,
    headers,
    notice: [
      'Anomalia nel messaggio',
      '',
      `Il giorno ${noticeTime(submission.date)} è stato ricevuto`,
      `il messaggio "${submission.subject}" proveniente da "${submission.sender}"`,
      'indirizzato a:',
      ...submission.recipients.map((r) => r.address),
      'Tali dati non sono stati certificati per il seguente errore:',
      'messaggio non proveniente da una casella di posta certificata.',
      'Il messaggio originale è incluso in allegato.',
    ].join('\n'),
    postacert: submission.original,
    ...(options.hash ? { hash: options.hash } : {}),
  });
}
