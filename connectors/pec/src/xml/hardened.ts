import { isUtf8 } from 'node:buffer';
import { localName, readXml, type XmlNode } from './reader.js';

export { localName, type XmlNode };

const FORBIDDEN_DECLARATION = /<!(DOCTYPE|ENTITY)/i;
/**
 * A DOCTYPE that only names an external DTD, no internal subset: what real providers write
 * (`<!DOCTYPE postacert SYSTEM "Postacert.dtd">`, or `PUBLIC "…" "….dtd"`).
 */
const EXTERNAL_DOCTYPE =
  /<!DOCTYPE\s+[^\s"'<>[\]]+(?:\s+(?:SYSTEM|PUBLIC\s+(?:"[^"]*"|'[^']*'))\s+(?:"[^"]*"|'[^']*'))?\s*>/y;
/**
 * What may come before a DOCTYPE: white space, processing instructions, comments. Written so
 * that no text matches two ways: a 1 MB prolog cannot make it backtrack.
 */
const PROLOG = /^(?:\s|<\?(?:[^?]|\?(?!>))*\?>|<!--(?:[^-]|-(?!->))*-->)*$/;
/** Real daticert.xml and evidence documents are a few KB; a huge one is an attack on the parser's time. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

/**
 * Hardened XML reading for provider documents (daticert.xml, REM evidence): a DOCTYPE with an
 * internal subset or any ENTITY declaration is refused before the reader sees the text, and one
 * that only names an external DTD is blanked out, never read: so no DTD, entity expansion or
 * external fetch can happen, and the reader (reader.ts) expands no entity. Predefined entities
 * are decoded afterwards by `unescapeXml`. Returns null and says why in `problems` when the
 * document cannot be read safely.
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
  const text = withoutExternalDoctype(
    (isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1')).replace(/^\uFEFF/, ''),
  );
  if (text === null) {
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

/**
 * The text with its external-only DOCTYPE turned into blanks (line breaks kept, so a later syntax
 * error still names the right line); null when it declares anything else. The DTD is not needed:
 * the defaults it declares (errore="nessuno", tipo="certificato", ricevuta tipo="completa") are the
 * readers' own, so ignoring it changes nothing and deserves no problem line.
 */
function withoutExternalDoctype(text: string): string | null {
  const at = text.indexOf('<!DOCTYPE');
  if (at < 0) return FORBIDDEN_DECLARATION.test(text) ? null : text;
  EXTERNAL_DOCTYPE.lastIndex = at;
  const doctype = EXTERNAL_DOCTYPE.exec(text)?.[0];
  if (!doctype || !PROLOG.test(text.slice(0, at))) return null;
  const rest = text.slice(at + doctype.length);
  if (FORBIDDEN_DECLARATION.test(rest)) return null;
  return text.slice(0, at) + doctype.replace(/[^\n]/g, ' ') + rest;
}

export function asNode(value: unknown): XmlNode | null {
  if (Array.isArray(value)) return asNode(value[0]);
  return typeof value === 'object' && value !== null ? (value as XmlNode) : null;
}

export function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The attribute `name` with or without a namespace prefix (`p:tipo`), as elements are read. When
 * both are written the unprefixed one counts: it is the attribute the document format defines.
 */
export function attributeOf(node: XmlNode, name: string): string | null {
  const attributes = asNode(node['@']);
  if (!attributes) return null;
  const value = Object.hasOwn(attributes, name)
    ? attributes[name]
    : prefixedAttribute(attributes, name);
  return typeof value === 'string' && value.trim() !== '' ? unescapeXml(value.trim()) : null;
}

/** `xmlns:tipo` declares a prefix named tipo: it is no attribute tipo. */
function prefixedAttribute(attributes: XmlNode, name: string): unknown {
  for (const key of Object.keys(attributes))
    if (localName(key) === name && !key.startsWith('xmlns:')) return attributes[key];
  return undefined;
}

/** Element text, tolerating attributes and stray mixed content around it. */
export function textOf(value: unknown): string | null {
  if (Array.isArray(value)) return textOf(value[0]);
  if (typeof value === 'string') return value === '' ? null : unescapeXml(value);
  const node = asNode(value);
  if (node && typeof node['#text'] === 'string') return textOf(node['#text']);
  return null;
}

/**
 * The child elements named `name` in any namespace prefix. The reader keeps each written form
 * under its own key, so a writer that mixes `<destinatari>` and `<p:destinatari>` leaves two
 * groups: both are returned, one after the other (the form met first, first), as a list. One
 * form alone is returned as the reader built it. The groups are gathered into one new list, never
 * copied again per form: a document may write thousands of prefixes, and the reader's own arrays
 * stay as they are.
 */
export function childByLocalName(node: XmlNode, name: string): unknown {
  let first: unknown;
  let gathered: unknown[] | null = null;
  for (const key of Object.keys(node)) {
    if (localName(key) !== name) continue;
    if (first === undefined) {
      first = node[key];
      continue;
    }
    gathered ??= [...asList(first)];
    // One by one: push(...group) passes each element as an argument, and the 150 000 or more a
    // 1 MB document can repeat overflow the call stack.
    for (const element of asList(node[key])) gathered.push(element);
  }
  return gathered ?? first;
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
