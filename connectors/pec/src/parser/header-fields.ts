import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { findHeaderEnd, parseHeaderSection, type HeaderList } from '../mime/headers.js';
import type { Address, InnerMessage } from './types.js';

/*
 * The header fields of the message the sender wrote, read the same way by the full and the
 * outline reading: from the envelope's own header parser (mime/headers.ts), which reads raw 8-bit
 * bytes as UTF-8 when they are UTF-8 and as Latin-1 otherwise. mailparser reads them as UTF-8
 * only (a Latin-1 `città` became `citt\uFFFD`) and puts the current time in place of a Date it
 * cannot parse, so the full reading takes only the bodies and attachments from it.
 */

export type HeaderFields = Pick<
  InnerMessage,
  'subject' | 'from' | 'to' | 'cc' | 'date' | 'messageId'
>;

export function readHeaderFields(headers: HeaderList, problems: string[]): HeaderFields {
  return {
    subject: displayText(headers.get('subject')),
    from: addresses(headers, 'from')[0] ?? null,
    to: addresses(headers, 'to'),
    cc: addresses(headers, 'cc'),
    date: isoDate(headers.get('date'), problems),
    messageId: headers.get('message-id') ?? null,
  };
}

/** The header section at the start of `bytes` (problems in it are the MIME reading's to report). */
export function leadingHeaders(bytes: Buffer): HeaderList {
  const bounds = findHeaderEnd(bytes, 0, bytes.length);
  return parseHeaderSection(bytes.subarray(0, bounds ? bounds.headerEnd : bytes.length), []);
}

/*
 * Windows-1252 characters for 0x80–0x9F. Those code points are C1 controls in Latin-1, never
 * text: a header that carries them was written by a Windows client in windows-1252 (raw, or in
 * an encoded word labelled iso-8859-1), and meant € “ ” ‘ ’ – … The five bytes windows-1252
 * leaves undefined stay as they are.
 */
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/g;

/** Encoded words decoded, C1 controls read as windows-1252: the text a person wrote. */
function displayText(value: string | undefined): string | null {
  if (value === undefined) return null;
  let text: string;
  try {
    text = libmime.decodeWords(value);
  } catch {
    text = value;
  }
  return text.replace(C1, (char) => WINDOWS_1252_C1[char.charCodeAt(0) - 0x80]!);
}

/** A Date that does not parse is left empty and named: inventing a date would misdate the case. */
function isoDate(value: string | undefined, problems: string[]): string | null {
  if (!value) return null;
  const date = new Date(value.replace(/\s*\([^)]*\)\s*$/, ''));
  if (!Number.isNaN(date.getTime())) return date.toISOString();
  problems.push(`inner message Date "${value}" is not a date: left empty`);
  return null;
}

interface ParsedAddress {
  name: string;
  address?: string;
  group?: ParsedAddress[];
}

function addresses(headers: HeaderList, name: string): Address[] {
  return headers
    .getAll(name)
    .flatMap((value) => addressparser(value) as ParsedAddress[])
    .flatMap(flatten);
}

function flatten(entry: ParsedAddress): Address[] {
  if (entry.group) return entry.group.flatMap(flatten);
  return entry.address ? [{ address: entry.address, name: displayText(entry.name) ?? '' }] : [];
}
