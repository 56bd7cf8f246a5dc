/**
 * A strict, small XML reader for provider documents: saxen's tokenizer (no DTD handling, no
 * entity expansion) with every warning it raises treated as an error, building the plain tree
 * the document readers walk (white space around an attribute's `=`, which saxen does not take,
 * is tightened first: withTightEquals):
 *
 * - an element with neither attributes nor child elements is its trimmed text ('' when empty);
 * - otherwise an object: attributes under '@' (values as written, entities not decoded),
 *   child elements by name, and its trimmed text segments (CDATA untrimmed) joined under '#text';
 * - an element name repeated among siblings, or listed in `arrays` (by local name), is an array.
 *
 * The shape is fast-xml-parser's for the options the parser used before (a test holds the two
 * equal); reading a daticert this way takes a tenth of the time.
 */
import { Parser } from 'saxen';

export type XmlNode = Record<string, unknown>;

export class XmlSyntaxError extends Error {
  constructor(message: string, line?: number, column?: number) {
    super(line === undefined ? message : `${message} (line ${line + 1}, column ${column! + 1})`);
    this.name = 'XmlSyntaxError';
  }
}

interface OpenElement {
  name: string;
  node: XmlNode;
  attributes: Record<string, string> | null;
  text: string;
  hasChildren: boolean;
}

export function readXml(text: string, arrays: ReadonlySet<string>): XmlNode {
  const document = emptyNode();
  const stack: OpenElement[] = [];
  let roots = 0;
  const fail = (message: string, context?: () => { line: number; column: number }): never => {
    const at = context?.();
    throw new XmlSyntaxError(message, at?.line, at?.column);
  };
  const parser = new Parser();
  parser.on('error', (error, context) => fail(error.message, context));
  parser.on('warn', (warning, context) => fail(warning.message, context));
  parser.on('openTag', (name, attributes, _decode, selfClosing, context) => {
    if (stack.length === 0 && ++roots > 1) fail(`a second root element <${name}>`, context);
    const values = attributes();
    const element: OpenElement = {
      name,
      node: emptyNode(),
      attributes: Object.keys(values).length > 0 ? values : null,
      text: '',
      hasChildren: false,
    };
    if (stack.length > 0) stack[stack.length - 1]!.hasChildren = true;
    stack.push(element);
    if (selfClosing) close(stack, document, arrays);
  });
  parser.on('closeTag', (_name, _decode, selfClosing) => {
    if (!selfClosing) close(stack, document, arrays);
  });
  parser.on('text', (value) => appendText(stack, value.trim()));
  parser.on('cdata', (value) => appendText(stack, value)); // kept as written, like the text
  // hardened.ts refuses <!ENTITY> and blanks an external-only <!DOCTYPE>; no declaration is expected here.
  parser.on('attention', (value) => fail(`a declaration ${value.slice(0, 40)} is not allowed`));
  parser.parse(withTightEquals(text));
  if (roots === 0) fail('no root element');
  return document;
}

/** White space on either side of an `=`: the only documents withTightEquals has to look into. */
const LOOSE_EQUALS = /\s=|=\s/;
/** Markup that holds no attributes, skipped whole: its content is kept as written. */
const SKIPPED_MARKUP: ReadonlyArray<readonly [open: string, close: string]> = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
];
/**
 * In a start tag: a quoted value, kept as it is, or white space, an attribute name and an `=`
 * with white space around it, followed by the value's quote. No two ways to match a text: linear.
 */
const LOOSE_ATTRIBUTE = /("[^"]*"|'[^']*')|(\s)([^\s"'=<>/]+)(\s*)=(\s*)(?=["'])/g;

/**
 * XML allows white space around an attribute's `=` (XML 1.0 `Eq ::= S? '=' S?`, `tipo = "x"`);
 * saxen warns on it, and a warning refuses the document. So, in start tags only (never in text,
 * values, comments, CDATA or processing instructions), that white space is moved in front of the
 * attribute name: the document means the same, and what follows keeps its line and column for
 * error messages. Unquoted values and attributes with no space between them stay refused. Each
 * piece of markup is found with indexOf: an unterminated one ends the rewriting, for saxen to refuse.
 */
export function withTightEquals(text: string): string {
  if (!LOOSE_EQUALS.test(text)) return text;
  const pieces: string[] = [];
  let copied = 0;
  let at = text.indexOf('<');
  while (at >= 0) {
    const end = markupEnd(text, at);
    if (end < 0) break;
    if (isStartTag(text, at)) {
      pieces.push(text.slice(copied, at), text.slice(at, end).replace(LOOSE_ATTRIBUTE, tightened));
      copied = end;
    }
    at = text.indexOf('<', end);
  }
  pieces.push(text.slice(copied));
  return pieces.join('');
}

function tightened(
  _match: string,
  quoted: string | undefined,
  space: string,
  name: string,
  before: string,
  after: string,
): string {
  return quoted ?? `${space}${before}${after}${name}=`;
}

/** Not an end tag, a declaration (`<!…`, comments and CDATA too) or a processing instruction. */
function isStartTag(text: string, at: number): boolean {
  const next = text[at + 1];
  return next !== undefined && next !== '/' && next !== '!' && next !== '?';
}

/** Just past the markup that starts at `at`, or -1 when it is never closed. */
function markupEnd(text: string, at: number): number {
  for (const [open, close] of SKIPPED_MARKUP) {
    if (!text.startsWith(open, at)) continue;
    const found = text.indexOf(close, at + open.length);
    return found < 0 ? -1 : found + close.length;
  }
  return tagEnd(text, at + 1);
}

/** Just past the `>` that closes a tag, stepping over quoted values (which may hold `>`); -1 when none. */
function tagEnd(text: string, from: number): number {
  for (let at = from; at < text.length; at += 1) {
    const char = text[at];
    if (char === '>') return at + 1;
    if (char === '"' || char === "'") {
      at = text.indexOf(char, at + 1);
      if (at < 0) return -1;
    }
  }
  return -1;
}

/** Without a prototype: an element named `__proto__` is a child like any other. */
function emptyNode(): XmlNode {
  return Object.create(null) as XmlNode;
}

function appendText(stack: OpenElement[], value: string): void {
  if (value !== '' && stack.length > 0) stack[stack.length - 1]!.text += value;
}

function close(stack: OpenElement[], document: XmlNode, arrays: ReadonlySet<string>): void {
  const element = stack.pop()!;
  const parent = stack.length > 0 ? stack[stack.length - 1]!.node : document;
  let value: unknown;
  if (!element.attributes && !element.hasChildren) value = element.text;
  else {
    value = element.node;
    if (element.attributes) element.node['@'] = element.attributes;
    if (element.text !== '') element.node['#text'] = element.text;
  }
  addChild(parent, element.name, value, arrays);
}

function addChild(
  parent: XmlNode,
  name: string,
  value: unknown,
  arrays: ReadonlySet<string>,
): void {
  const existing = parent[name];
  if (existing === undefined && !Object.hasOwn(parent, name)) {
    parent[name] = arrays.has(localName(name)) ? [value] : value;
  } else if (Array.isArray(existing)) existing.push(value);
  else parent[name] = [existing, value];
}

export function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}
