/**
 * A strict, small XML reader for provider documents: saxen's tokenizer (no DTD handling, no
 * entity expansion) with every warning it raises treated as an error, building the plain tree
 * the document readers walk:
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
  parser.parse(text);
  if (roots === 0) fail('no root element');
  return document;
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
