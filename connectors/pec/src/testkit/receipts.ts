import { createHash } from 'node:crypto';
import type { ReceiptType } from '../daticert/types.js';
import type { PecTipo } from '../events/pec.js';
import { decodedBody, parseEntity, walk } from '../mime/entity.js';
import { buildCertifiedMessage, noticeTime } from './certified.js';
import { buildDaticert, type DaticertOptions } from './daticert.js';
import { CRLF, structuredValue, writeHeaders, type HeaderLines } from './mime.js';
import { providerAddress, type TestProvider } from './provider.js';
import type { SignatureHash } from './smime.js';
import type { Submission } from './submission.js';

export type ReceiptKind = Exclude<PecTipo, 'posta-certificata'>;

export interface ReceiptOptions {
  /** The provider issuing the receipt (the recipient's, for delivery receipts). */
  provider: TestProvider;
  submission: Submission;
  kind: ReceiptKind;
  date?: Date;
  /** The receipt's own Message-ID, no angle brackets; derived when absent. */
  receiptId?: string;
  /** The recipient delivered to / attempted (`consegna`): delivery, non-delivery and timeout receipts. */
  recipient?: string;
  /** avvenuta-consegna only; default what the sender asked for (cc recipients always get sintetica). */
  receiptType?: ReceiptType;
  /** non-accettazione / errore-consegna caused by a virus: X-VerificaSicurezza: errore, errore="virus". */
  virus?: boolean;
  errore?: DaticertOptions['errore'];
  erroreEsteso?: string;
  /** presa-in-carico: the recipients the receiving provider took charge of. */
  ricezione?: string[];
  hash?: SignatureHash;
}

const SUBJECT_PREFIX: Record<ReceiptKind, string> = {
  accettazione: 'ACCETTAZIONE: ',
  'non-accettazione': 'AVVISO DI NON ACCETTAZIONE: ',
  'presa-in-carico': 'PRESA IN CARICO: ',
  'avvenuta-consegna': 'CONSEGNA: ',
  'errore-consegna': 'AVVISO DI MANCATA CONSEGNA: ',
  'preavviso-errore-consegna': 'AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: ',
  'rilevazione-virus': 'PROBLEMA DI SICUREZZA: ',
};

const VIRUS_PREFIX: Partial<Record<ReceiptKind, string>> = {
  'non-accettazione': 'AVVISO DI NON ACCETTAZIONE PER VIRUS: ',
  'errore-consegna': 'AVVISO DI MANCATA CONSEGNA PER VIRUS: ',
};

/** docs/pec.md: "non-PEC recipients (`esterno`) never produce one" (a delivery-side receipt). */
function certifiedRecipient(submission: Submission): string | undefined {
  return submission.recipients.find((r) => r.tipo !== 'esterno')?.address;
}

function refuseEsterno(submission: Submission, recipient: string, kind: ReceiptKind): void {
  const listed = submission.recipients.find(
    (r) => r.address.toLowerCase() === recipient.toLowerCase(),
  );
  if (listed?.tipo === 'esterno')
    throw new Error(
      `${kind} for ${recipient}: an esterno (non-PEC) recipient never gets a delivery-side receipt (docs/pec.md)`,
    );
}

/** Any receipt kind of docs/pec.md, signed by `provider`. */
export function buildReceipt(options: ReceiptOptions): Buffer {
  const { provider, submission, kind } = options;
  const date = options.date ?? submission.date;
  const virus = options.virus === true || kind === 'rilevazione-virus';
  const receiptType =
    kind === 'avvenuta-consegna'
      ? (options.receiptType ?? deliveryReceiptType(submission, options.recipient))
      : undefined;
  const recipient =
    options.recipient ?? (needsRecipient(kind) ? certifiedRecipient(submission) : undefined);
  if (recipient && needsRecipient(kind)) refuseEsterno(submission, recipient, kind);
  const receiptId = options.receiptId ?? derivedId(kind, submission, recipient, date, provider);
  const providerOnly = kind === 'presa-in-carico' || kind === 'rilevazione-virus';
  const headers: HeaderLines = [
    ['Message-ID', `<${receiptId}>`],
    ['X-Ricevuta', kind],
    ['X-Riferimento-Message-ID', submission.clientMessageId],
  ];
  if (receiptType) headers.push(['X-TipoRicevuta', receiptType]);
  if (virus && kind !== 'rilevazione-virus') headers.push(['X-VerificaSicurezza', 'errore']);
  if (kind === 'rilevazione-virus') headers.push(['X-Mittente', submission.sender]);
  headers.push(
    ['From', providerAddress(provider)],
    ['To', providerOnly ? `posta-certificata@${domainOf(submission.sender)}` : submission.sender],
    ['Subject', `${(virus && VIRUS_PREFIX[kind]) || SUBJECT_PREFIX[kind]}${submission.subject}`],
  );
  const errore = options.errore ?? (virus ? 'virus' : defaultErrore(kind));
  const erroreEsteso = options.erroreEsteso ?? defaultErroreEsteso(kind, provider, virus);
  const daticert = buildDaticert({
    tipo: kind,
    errore,
    mittente: submission.sender,
    destinatari: submission.recipients,
    risposte: submission.sender,
    oggetto: submission.subject,
    gestoreEmittente: provider.name,
    date,
    identificativo: submission.identificativo,
    msgid: submission.clientMessageId,
    ...(receiptType ? { ricevuta: receiptType } : {}),
    ...(recipient && needsRecipient(kind) ? { consegna: recipient } : {}),
    ...(kind === 'presa-in-carico'
      ? { ricezione: options.ricezione ?? submission.recipients.map((r) => r.address) }
      : {}),
    ...(erroreEsteso ? { erroreEsteso } : {}),
  });
  return buildCertifiedMessage({
    provider,
    date,
    headers,
    notice: receiptNotice(kind, submission, date, recipient),
    daticert,
    ...(receiptType === 'completa' ? { postacert: submission.postacert } : {}),
    ...(receiptType === 'breve' ? { postacert: toBreveOriginal(submission.postacert) } : {}),
    ...(options.hash ? { hash: options.hash } : {}),
  });
}

export const buildAccettazione = (o: Omit<ReceiptOptions, 'kind'>) =>
  buildReceipt({ ...o, kind: 'accettazione' });
export const buildNonAccettazione = (o: Omit<ReceiptOptions, 'kind'>) =>
  buildReceipt({ ...o, kind: 'non-accettazione' });
export const buildPresaInCarico = (o: Omit<ReceiptOptions, 'kind'>) =>
  buildReceipt({ ...o, kind: 'presa-in-carico' });
export const buildAvvenutaConsegna = (o: Omit<ReceiptOptions, 'kind'>) =>
  buildReceipt({ ...o, kind: 'avvenuta-consegna' });
export const buildErroreConsegna = (o: Omit<ReceiptOptions, 'kind'>) =>
  buildReceipt({ ...o, kind: 'errore-consegna' });
export const buildPreavvisoErroreConsegna = (o: Omit<ReceiptOptions, 'kind'>) =>
  buildReceipt({ ...o, kind: 'preavviso-errore-consegna' });
export const buildRilevazioneVirus = (o: Omit<ReceiptOptions, 'kind'>) =>
  buildReceipt({ ...o, kind: 'rilevazione-virus' });

function needsRecipient(kind: ReceiptKind): boolean {
  return (
    kind === 'avvenuta-consegna' ||
    kind === 'errore-consegna' ||
    kind === 'preavviso-errore-consegna'
  );
}

/** Cc recipients always get sintetica (docs/pec.md). */
function deliveryReceiptType(submission: Submission, recipient: string | undefined): ReceiptType {
  const cc = new Set(submission.cc.map((address) => address.toLowerCase()));
  return recipient && cc.has(recipient.toLowerCase()) ? 'sintetica' : submission.receiptType;
}

function defaultErrore(kind: ReceiptKind): DaticertOptions['errore'] {
  if (kind === 'errore-consegna') return 'no-dest';
  if (kind === 'non-accettazione') return 'altro';
  return 'nessuno';
}

function defaultErroreEsteso(
  kind: ReceiptKind,
  provider: TestProvider,
  virus: boolean,
): string | undefined {
  if (virus) return `5.7.1 - ${provider.name} - virus rilevato nel messaggio`;
  if (kind === 'errore-consegna') return `5.1.1 - ${provider.name} - indirizzo non valido`;
  if (kind === 'preavviso-errore-consegna')
    return `4.4.7 - ${provider.name} - consegna non avvenuta entro 12 ore`;
  return undefined;
}

function derivedId(
  kind: ReceiptKind,
  submission: Submission,
  recipient: string | undefined,
  date: Date,
  provider: TestProvider,
): string {
  const hash = createHash('sha1')
    .update(`${kind}|${submission.identificativo}|${recipient ?? ''}|${date.toISOString()}`)
    .digest('hex');
  return `${kind}.${hash.slice(0, 16)}@${provider.domain}`;
}

function domainOf(address: string): string {
  return address.split('@')[1] ?? 'pec.test';
}

function receiptNotice(
  kind: ReceiptKind,
  submission: Submission,
  date: Date,
  recipient: string | undefined,
): string {
  const when = `Il giorno ${noticeTime(date)}`;
  const message = `messaggio "${submission.subject}" proveniente da "${submission.sender}"`;
  const about = `il ${message}`;
  const to = recipient ?? submission.recipients.map((r) => r.address).join(', ');
  const lines: Record<ReceiptKind, string[]> = {
    accettazione: [
      'Ricevuta di accettazione',
      '',
      `${when} ${about}`,
      `ed indirizzato a: ${to}`,
      'è stato accettato dal sistema ed inoltrato.',
    ],
    'non-accettazione': [
      'Avviso di non accettazione',
      '',
      `${when} ${about}`,
      `ed indirizzato a: ${to}`,
      'non è stato accettato dal sistema.',
    ],
    'presa-in-carico': [
      'Ricevuta di presa in carico',
      '',
      `${when} ${about}`,
      `ed indirizzato a: ${to}`,
      'è stato preso in carico dal gestore di destinazione.',
    ],
    'avvenuta-consegna': [
      'Ricevuta di avvenuta consegna',
      '',
      `${when} ${about}`,
      `ed indirizzato a "${to}"`,
      'è stato consegnato nella casella di destinazione.',
    ],
    'errore-consegna': [
      'Avviso di mancata consegna',
      '',
      `${when} nel ${message}`,
      `ed indirizzato a "${to}"`,
      'è stato rilevato un errore: la consegna non è avvenuta.',
    ],
    'preavviso-errore-consegna': [
      'Avviso di mancata consegna per superamento tempo massimo',
      '',
      `${when} ${about}`,
      `ed indirizzato a "${to}"`,
      'non è ancora stato consegnato.',
    ],
    'rilevazione-virus': [
      'Problema di sicurezza',
      '',
      `${when} ${about}`,
      `ed indirizzato a: ${to}`,
      'contiene un virus e non è stato inoltrato.',
    ],
  };
  return [...lines[kind], `Identificativo messaggio: ${submission.identificativo}`].join('\n');
}

/**
 * The breve receipt's copy of the original: every named part replaced by `<filename>.hash` holding
 * the SHA-1 (hex) of its decoded content; the rest of the bytes untouched.
 */
export function toBreveOriginal(original: Buffer): Buffer {
  const root = parseEntity(original, []);
  const named = [...walk(root)].filter(
    (entity) => entity !== root && entity.children.length === 0 && entity.filename,
  );
  const chunks: Buffer[] = [];
  let cursor = 0;
  for (const entity of named) {
    const sha1 = createHash('sha1').update(decodedBody(original, entity)).digest('hex');
    const filename = `${entity.filename}.hash`;
    const headers = writeHeaders([
      // RFC 2231 parameters, as original.ts writes attachments: an accented name stays a name.
      ['Content-Type', structuredValue('application/octet-stream', { name: filename })],
      ['Content-Transfer-Encoding', '7bit'],
      ['Content-Disposition', structuredValue('attachment', { filename })],
    ]);
    chunks.push(
      original.subarray(cursor, entity.start),
      Buffer.from(headers + CRLF + sha1, 'utf8'),
    );
    cursor = entity.end;
  }
  chunks.push(original.subarray(cursor));
  return Buffer.concat(chunks);
}
