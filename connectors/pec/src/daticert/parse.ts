import {
  asList,
  asNode,
  attributeOf,
  childByLocalName,
  parseXmlDocument,
  textOf,
  type XmlNode,
} from '../xml/hardened.js';
import type { CertData, Destinatario, ReceiptType } from './types.js';

const RECEIPT_TYPES: readonly string[] = ['completa', 'breve', 'sintetica'];

/**
 * Parses daticert.xml; returns null (and says why in `problems`) when it cannot be trusted or read.
 * Elements and attributes are looked up by local name: daticert has no namespace, but some writers
 * prefix every element (`<p:postacert xmlns:p="…" p:tipo="…">`), or only some, and the prefix
 * changes nothing a reader needs.
 */
export function parseDaticert(bytes: Buffer, problems: string[]): CertData | null {
  const document = parseXmlDocument(bytes, 'daticert.xml', ['destinatari', 'ricezione'], problems);
  if (!document) return null;
  const root = asNode(childByLocalName(document, 'postacert'));
  if (!root) {
    problems.push('daticert.xml has no <postacert> root element');
    return null;
  }
  const tipo = attributeOf(root, 'tipo');
  if (!tipo) problems.push('daticert.xml <postacert> has no tipo attribute');
  const header = asNode(childByLocalName(root, 'intestazione')) ?? {};
  const data = asNode(childByLocalName(root, 'dati')) ?? {};
  const field = (node: XmlNode, name: string) => textOf(childByLocalName(node, name));
  const ricevuta = childByLocalName(data, 'ricevuta');
  return {
    tipo: tipo ?? '',
    errore: attributeOf(root, 'errore') ?? 'nessuno',
    mittente: field(header, 'mittente'),
    destinatari: asList(childByLocalName(header, 'destinatari'))
      .map(toDestinatario)
      .filter((d): d is Destinatario => d !== null),
    risposte: field(header, 'risposte'),
    oggetto: field(header, 'oggetto'),
    gestoreEmittente: field(data, 'gestore-emittente'),
    data: certDate(asNode(childByLocalName(data, 'data')), problems),
    identificativo: field(data, 'identificativo'),
    msgid: field(data, 'msgid'),
    ricevuta: receiptType(asNode(ricevuta), ricevuta !== undefined, problems),
    consegna: field(data, 'consegna'),
    ricezione: asList(childByLocalName(data, 'ricezione'))
      .map(textOf)
      .filter((r): r is string => r !== null),
    erroreEsteso: field(data, 'errore-esteso'),
  };
}

function toDestinatario(value: unknown): Destinatario | null {
  const address = textOf(value);
  if (!address) return null;
  const node = asNode(value);
  return { address, tipo: (node && attributeOf(node, 'tipo')) ?? 'certificato' };
}

/** `<ricevuta/>` without attribute means the default, completa. */
function receiptType(
  node: XmlNode | null,
  present: boolean,
  problems: string[],
): ReceiptType | null {
  if (!present) return null;
  const tipo = (node && attributeOf(node, 'tipo')) ?? 'completa';
  if (RECEIPT_TYPES.includes(tipo)) return tipo as ReceiptType;
  problems.push(`daticert.xml <ricevuta tipo="${tipo}"> is not completa, breve or sintetica`);
  return null;
}

/** `giorno` dd/mm/yyyy and `ora` hh:mm:ss are local time at offset `zona` (+hhmm). */
function certDate(node: XmlNode | null, problems: string[]): string | null {
  if (!node) return null;
  const day = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(textOf(childByLocalName(node, 'giorno')) ?? '');
  const time = /^(\d{2}):(\d{2}):(\d{2})$/.exec(textOf(childByLocalName(node, 'ora')) ?? '');
  const zone = /^([+-])(\d{2}):?(\d{2})$/.exec(attributeOf(node, 'zona') ?? '+0000');
  if (!day || !time || !zone) {
    problems.push('daticert.xml <data> is not giorno dd/mm/yyyy, ora hh:mm:ss, zona +hhmm');
    return null;
  }
  const [dd, mm, yyyy] = [Number(day[1]), Number(day[2]), Number(day[3])];
  const [hh, mi, ss] = [Number(time[1]), Number(time[2]), Number(time[3])];
  const local = new Date(Date.UTC(yyyy, mm - 1, dd, hh, mi, ss));
  if (
    local.getUTCDate() !== dd ||
    local.getUTCMonth() !== mm - 1 ||
    hh > 23 ||
    mi > 59 ||
    ss > 59
  ) {
    problems.push('daticert.xml <data> is not a real date and time');
    return null;
  }
  const offsetMinutes = (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3]));
  return new Date(local.getTime() - offsetMinutes * 60_000).toISOString();
}
