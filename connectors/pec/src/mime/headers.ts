import { isUtf8 } from 'node:buffer';

export interface HeaderField {
  /** Lower-cased: header names vary in case between providers (`X-Tiporicevuta`). */
  name: string;
  /** Unfolded, encoded words left as they are. */
  value: string;
}

export class HeaderList {
  readonly fields: readonly HeaderField[];

  constructor(fields: HeaderField[]) {
    this.fields = fields;
  }

  get(name: string): string | undefined {
    for (const field of this.fields) if (field.name === name) return field.value;
    return undefined;
  }

  getAll(name: string): string[] {
    return this.fields.filter((field) => field.name === name).map((field) => field.value);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get size(): number {
    return this.fields.length;
  }
}

const LF = 0x0a;
const FIELD_NAME = /^[!-9;-~]+$/;

/**
 * Where the header section of the entity at `start` ends (the empty line) and its body starts;
 * null when the bytes end before an empty line (a truncated message).
 */
export function findHeaderEnd(
  raw: Buffer,
  start: number,
  end: number,
): { headerEnd: number; bodyStart: number } | null {
  if (raw[start] === LF) return { headerEnd: start, bodyStart: start + 1 };
  if (raw[start] === 0x0d && raw[start + 1] === LF)
    return { headerEnd: start, bodyStart: start + 2 };
  let from = start;
  for (;;) {
    const lf = raw.indexOf(LF, from);
    if (lf < 0 || lf >= end) return null;
    const next = lf + 1;
    if (raw[next] === LF && next < end) return { headerEnd: next, bodyStart: next + 1 };
    if (raw[next] === 0x0d && raw[next + 1] === LF && next + 1 < end)
      return { headerEnd: next, bodyStart: next + 2 };
    from = next;
  }
}

/**
 * Parses a header section. Raw 8-bit headers (illegal, but sent by real clients) are read as UTF-8
 * when they are valid UTF-8 and as Latin-1 otherwise, so no byte makes the parse fail.
 */
export function parseHeaderSection(bytes: Buffer, problems: string[]): HeaderList {
  const text = isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
  const fields: HeaderField[] = [];
  let malformed = 0;
  let current: HeaderField | null = null;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') continue;
    const first = line.charCodeAt(0);
    if ((first === 0x20 || first === 0x09) && current) {
      current.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trimEnd() : '';
    if (!FIELD_NAME.test(name)) {
      malformed += 1;
      current = null;
      continue;
    }
    current = { name: name.toLowerCase(), value: line.slice(colon + 1) };
    fields.push(current);
  }
  for (const field of fields) field.value = field.value.trim();
  if (malformed > 0) problems.push(`${malformed} malformed header line(s) ignored`);
  return new HeaderList(fields);
}
