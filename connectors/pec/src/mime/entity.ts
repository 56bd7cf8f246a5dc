import libmime from 'libmime';
import { decodeTransfer } from './decode.js';
import { findHeaderEnd, HeaderList, parseHeaderSection } from './headers.js';

/**
 * One MIME entity located by byte offsets in the raw message. Offsets, not copies: the signature
 * is checked over the exact bytes of a part, and an embedded message is parsed from its own bytes.
 */
export interface MimeEntity {
  start: number;
  end: number;
  bodyStart: number;
  bodyEnd: number;
  headers: HeaderList;
  /** Lower-cased media type, `text/plain` when absent (RFC 2045). */
  contentType: string;
  params: Record<string, string>;
  disposition: string | null;
  filename: string | null;
  transferEncoding: string;
  children: MimeEntity[];
}

export interface EntityLimits {
  maxDepth: number;
  maxParts: number;
}

const DEFAULT_LIMITS: EntityLimits = { maxDepth: 24, maxParts: 1000 };

interface SplitState {
  raw: Buffer;
  problems: string[];
  partsLeft: number;
}

/** Parses the entity tree of `raw[start, end)`. Embedded messages (message/rfc822) are not entered. */
export function parseEntity(
  raw: Buffer,
  problems: string[],
  limits: EntityLimits = DEFAULT_LIMITS,
  start = 0,
  end = raw.length,
): MimeEntity {
  const state: SplitState = { raw, problems, partsLeft: limits.maxParts };
  return parseAt(state, start, end, limits.maxDepth);
}

function parseAt(state: SplitState, start: number, end: number, depthLeft: number): MimeEntity {
  const { raw, problems } = state;
  const bounds = findHeaderEnd(raw, start, end);
  if (!bounds) problems.push('header section is not terminated by an empty line (truncated?)');
  const headerEnd = bounds ? bounds.headerEnd : end;
  const bodyStart = bounds ? bounds.bodyStart : end;
  const headers = parseHeaderSection(raw.subarray(start, headerEnd), problems);
  const type = parseStructured(headers.get('content-type'), 'text/plain');
  const disposition = parseStructured(headers.get('content-disposition'), '');
  const entity: MimeEntity = {
    start,
    end,
    bodyStart,
    bodyEnd: end,
    headers,
    contentType: type.value,
    params: type.params,
    disposition: disposition.value || null,
    filename: decodedParam(disposition.params.filename ?? type.params.name),
    transferEncoding: (headers.get('content-transfer-encoding') ?? '7bit').trim().toLowerCase(),
    children: [],
  };
  if (entity.contentType.startsWith('multipart/')) splitMultipart(state, entity, depthLeft);
  return entity;
}

function parseStructured(
  value: string | undefined,
  fallback: string,
): { value: string; params: Record<string, string> } {
  if (value === undefined) return { value: fallback, params: {} };
  const parsed = splitSimple(value) ?? libmime.parseHeaderValue(value);
  return { value: parsed.value.trim().toLowerCase() || fallback, params: parsed.params };
}

/** Anything beyond `;`-separated `key=value` / `key="value"`: libmime's full reading. */
const NOT_SIMPLE = /[()*\\]|=\?/;
const SIMPLE_PARAM = /^\s*([^\s=";]+)\s*(?:=\s*(?:"([^"]*)"|([^\s"]*))\s*)?$/;

/**
 * What libmime.parseHeaderValue gives for a simple value (the first of repeated parameters wins,
 * keys lower-cased), at a fraction of its cost; null sends the value to libmime.
 */
function splitSimple(value: string): { value: string; params: Record<string, string> } | null {
  if (NOT_SIMPLE.test(value)) return null;
  const [head = '', ...rest] = value.split(';');
  if (head.includes('"') || head.includes('=')) return null;
  const params: Record<string, string> = {};
  for (const part of rest) {
    if (part.trim() === '') continue;
    const match = SIMPLE_PARAM.exec(part);
    if (!match) return null;
    const key = match[1]!.toLowerCase();
    if (!(key in params)) params[key] = match[2] ?? match[3] ?? '';
  }
  return { value: head.trim(), params };
}

function decodedParam(value: string | undefined): string | null {
  if (value === undefined) return null;
  return libmime.decodeWords(value).trim() || null;
}

function splitMultipart(state: SplitState, entity: MimeEntity, depthLeft: number): void {
  const boundary = entity.params.boundary?.trimEnd();
  if (!boundary) {
    state.problems.push(
      `${entity.contentType} has no boundary parameter: its parts cannot be read`,
    );
    return;
  }
  if (depthLeft <= 0) {
    state.problems.push(`multipart nesting deeper than the limit: inner parts not read`);
    return;
  }
  const delimiters = findDelimiters(
    state.raw,
    Buffer.from(`--${boundary}`, 'latin1'),
    entity.bodyStart,
    entity.end,
  );
  if (delimiters.length === 0) {
    state.problems.push(
      `${entity.contentType} boundary "${boundary}" never occurs: its parts cannot be read`,
    );
    return;
  }
  const last = delimiters[delimiters.length - 1];
  if (!last?.closing)
    state.problems.push(
      `${entity.contentType} boundary "${boundary}" is never closed (truncated?)`,
    );
  for (let index = 0; index < delimiters.length; index += 1) {
    const delimiter = delimiters[index];
    if (!delimiter || delimiter.closing) break;
    const next = delimiters[index + 1];
    const partEnd = next ? next.lineStart : entity.end;
    if (state.partsLeft <= 0) {
      state.problems.push('too many MIME parts: the rest is not read');
      return;
    }
    state.partsLeft -= 1;
    entity.children.push(
      parseAt(
        state,
        delimiter.contentStart,
        Math.max(partEnd, delimiter.contentStart),
        depthLeft - 1,
      ),
    );
  }
}

interface Delimiter {
  /** Where the line break before the delimiter starts: it belongs to the delimiter (RFC 2046). */
  lineStart: number;
  /** First byte after the delimiter line. */
  contentStart: number;
  closing: boolean;
}

function findDelimiters(raw: Buffer, dashBoundary: Buffer, from: number, end: number): Delimiter[] {
  const found: Delimiter[] = [];
  let position = from;
  while (position < end) {
    const at = raw.indexOf(dashBoundary, position);
    if (at < 0 || at + dashBoundary.length > end) break;
    position = at + dashBoundary.length;
    if (at !== from && raw[at - 1] !== 0x0a) continue;
    const closing = raw[position] === 0x2d && raw[position + 1] === 0x2d;
    const lineEnd = endOfDelimiterLine(raw, closing ? position + 2 : position, end, closing);
    if (lineEnd < 0) continue;
    const lineStart = at === from ? at : raw[at - 2] === 0x0d ? at - 2 : at - 1;
    found.push({ lineStart: Math.max(lineStart, from), contentStart: lineEnd, closing });
    if (closing) break;
  }
  return found;
}

/**
 * The delimiter line may carry transport padding; anything else after an opening delimiter means the
 * boundary is only the prefix of other text. After the closing one, the rest of the line is epilogue.
 */
function endOfDelimiterLine(raw: Buffer, position: number, end: number, closing: boolean): number {
  let cursor = position;
  while (cursor < end && (raw[cursor] === 0x20 || raw[cursor] === 0x09)) cursor += 1;
  if (cursor >= end) return end;
  if (raw[cursor] === 0x0a) return cursor + 1;
  if (raw[cursor] === 0x0d && raw[cursor + 1] === 0x0a) return cursor + 2;
  return closing ? cursor : -1;
}

export function entityBody(raw: Buffer, entity: MimeEntity): Buffer {
  return raw.subarray(entity.bodyStart, entity.bodyEnd);
}

export function decodedBody(raw: Buffer, entity: MimeEntity): Buffer {
  return decodeTransfer(entityBody(raw, entity), entity.transferEncoding);
}

/** Depth-first walk that does not enter embedded messages. */
export function* walk(entity: MimeEntity): Generator<MimeEntity> {
  yield entity;
  for (const child of entity.children) yield* walk(child);
}
