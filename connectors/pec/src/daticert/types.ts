export type ReceiptType = 'completa' | 'breve' | 'sintetica';

export interface Destinatario {
  address: string;
  /** `certificato` (a PEC box) or `esterno` (ordinary mail: it never produces a delivery receipt). */
  tipo: string;
}

/** daticert.xml, field by field; optional elements stay null/empty when a provider omits them. */
export interface CertData {
  tipo: string;
  errore: string;
  mittente: string | null;
  destinatari: Destinatario[];
  risposte: string | null;
  oggetto: string | null;
  gestoreEmittente: string | null;
  /** ISO 8601 UTC, from `giorno`, `ora` and the `zona` offset. */
  data: string | null;
  identificativo: string | null;
  /** The sender client's Message-ID, angle brackets kept. */
  msgid: string | null;
  ricevuta: ReceiptType | null;
  consegna: string | null;
  ricezione: string[];
  erroreEsteso: string | null;
}
