import type { ReceiptType } from '../daticert/types.js';
import { romeOffsetMinutes, zone } from './mime.js';

export interface DaticertRecipient {
  address: string;
  tipo?: 'certificato' | 'esterno';
}

export interface DaticertOptions {
  tipo: string;
  errore?: 'nessuno' | 'no-dest' | 'no-dominio' | 'virus' | 'altro';
  mittente: string;
  destinatari: DaticertRecipient[];
  risposte?: string;
  oggetto?: string;
  gestoreEmittente: string;
  date: Date;
  /** Minutes east of UTC for `zona`; Italian civil time at `date` by default. */
  utcOffsetMinutes?: number;
  identificativo: string;
  /** With angle brackets, as the client wrote it; written XML-escaped. */
  msgid?: string;
  ricevuta?: ReceiptType;
  consegna?: string;
  ricezione?: string[];
  erroreEsteso?: string;
}

/** daticert.xml exactly in the DM 2 Nov 2005 layout: UTF-8, no namespace, no DOCTYPE. */
export function buildDaticert(options: DaticertOptions): Buffer {
  const offset = options.utcOffsetMinutes ?? romeOffsetMinutes(options.date);
  const local = new Date(options.date.getTime() + offset * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const giorno = `${pad(local.getUTCDate())}/${pad(local.getUTCMonth() + 1)}/${local.getUTCFullYear()}`;
  const ora = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<postacert tipo="${escape(options.tipo)}" errore="${options.errore ?? 'nessuno'}">`,
    '  <intestazione>',
    `    <mittente>${escape(options.mittente)}</mittente>`,
    ...options.destinatari.map(
      (d) =>
        `    <destinatari tipo="${d.tipo ?? 'certificato'}">${escape(d.address)}</destinatari>`,
    ),
    `    <risposte>${escape(options.risposte ?? options.mittente)}</risposte>`,
    ...(options.oggetto === undefined ? [] : [`    <oggetto>${escape(options.oggetto)}</oggetto>`]),
    '  </intestazione>',
    '  <dati>',
    `    <gestore-emittente>${escape(options.gestoreEmittente)}</gestore-emittente>`,
    `    <data zona="${zone(offset)}">`,
    `      <giorno>${giorno}</giorno>`,
    `      <ora>${ora}</ora>`,
    '    </data>',
    `    <identificativo>${escape(options.identificativo)}</identificativo>`,
    ...(options.msgid === undefined ? [] : [`    <msgid>${escape(options.msgid)}</msgid>`]),
    ...(options.ricevuta === undefined ? [] : [`    <ricevuta tipo="${options.ricevuta}" />`]),
    ...(options.consegna === undefined
      ? []
      : [`    <consegna>${escape(options.consegna)}</consegna>`]),
    ...(options.ricezione ?? []).map((r) => `    <ricezione>${escape(r)}</ricezione>`),
    ...(options.erroreEsteso === undefined
      ? []
      : [`    <errore-esteso>${escape(options.erroreEsteso)}</errore-esteso>`]),
    '  </dati>',
    '</postacert>',
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n', 'utf8');
}

export function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
