import { isUtf8 } from 'node:buffer';
import { localName, readXml, type XmlNode } from './reader.js';

export { localName, type XmlNode };

const FORBIDDEN_DECLARATION = /<!(DOCTYPE|ENTITY)/i;
/** Real daticert.xml and evidence documents are a few KB; a huge one is an attack on the parser's time. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

/**
 * Hardened XML reading for provider documents (daticert.xml, REM evidence): a DOCTYPE is refused
 * before the reader sees the text, so no DTD, entity expansion or external fetch can happen, and the
 * reader (reader.ts) expands no entity. Predefined entities are decoded afterwards by `unescapeXml`.
 * Returns null and says why in `problems` when the document cannot be read safely.
 */
export function parseXmlDocument(
  bytes: Buffer,
  label: string,
  arrays: readonly string[],
  problems: string[],
): XmlNode | null {
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    problems.push(`${label} is larger than ${MAX_DOCUMENT_BYTES} bytes: not parsed`);
    return null;
  }
  const text = (isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1')).replace(
    /^\uFEFF/,
    '',
  );
  if (FORBIDDEN_DECLARATION.test(text)) {
    problems.push(`${label} declares a DOCTYPE or ENTITY: refused`);
    return null;
  }
  try {
    return readXml(text, new Set(arrays));
  } catch (error) {
    problems.push(
      `${label} is not well-formed XML: ${error instanceof Error ? error.message : String(error)}`,
    );
    return null;
  }
}

export function asNode(value: unknown): XmlNode | null {
  if (Array.isArray(value)) return asNode(value[0]);
  return typeof value === 'object' && value !== null ? (value as XmlNode) : null;
}

export function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function attributeOf(node: XmlNode, name: string): string | null {
  const value = asNode(node['@'])?.[name];
  return typeof value === 'string' && value.trim() !== '' ? unescapeXml(value.trim()) : null;
}

/** Element text, tolerating attributes and stray mixed content around it. */
export function textOf(value: unknown): string | null {
  if (Array.isArray(value)) return textOf(value[0]);
  if (typeof value === 'string') return value === '' ? null : unescapeXml(value);
  const node = asNode(value);
  if (node && typeof node['#text'] === 'string') return textOf(node['#text']);
  return null;
}

/** The child element named `name` in any namespace prefix. */
export function childByLocalName(node: XmlNode, name: string): unknown {
  for (const key of Object.keys(node)) if (localName(key) === name) return node[key];
  return undefined;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function unescapeXml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return PREDEFINED[ref] ?? whole;
  });
}
