import { createHash } from 'node:crypto';
import libmime from 'libmime';
import libqp from 'libqp';

/*
 * A deliberately small MIME writer: the testkit must control every byte (CRLF line ends, part order,
 * inline dispositions, boundaries derived from content so the same input gives the same bytes).
 */
export const CRLF = '\r\n';

export type HeaderLines = Array<[name: string, value: string]>;

/** Header lines, folded at 76 columns; values with non-ASCII characters become encoded words. */
export function writeHeaders(headers: HeaderLines): string {
  return headers
    .map(([name, value]) => libmime.foldLines(`${name}: ${encodeIfNeeded(value)}`, 76) + CRLF)
    .join('');
}

function encodeIfNeeded(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : libmime.encodeWords(value, 'Q', 52);
}

/** `Content-Disposition`/`Content-Type` value with its parameters, RFC 2231 encoded where needed. */
export function structuredValue(value: string, params: Record<string, string>): string {
  return libmime.buildHeaderValue({ value, params });
}

export function base64Lines(content: Buffer): string {
  const encoded = content.toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < encoded.length; at += 76) lines.push(encoded.slice(at, at + 76));
  return lines.join(CRLF);
}

/** Quoted-printable body of `text` in `charset` (latin1 or utf-8), CRLF line ends. */
export function quotedPrintable(text: string, charset: 'iso-8859-1' | 'utf-8'): string {
  const lines = text.replace(/\r?\n/g, CRLF);
  // Latin-1 cannot hold every character a subject may carry: providers write '?' for those.
  const bytes =
    charset === 'utf-8'
      ? Buffer.from(lines, 'utf8')
      : Buffer.from(lines.replace(/[^\x00-\xff]/gu, '?'), 'latin1');
  return libqp.wrap(libqp.encode(bytes), 76);
}

/** A boundary that cannot occur in the content it separates: it is derived from that content. */
export function boundaryFor(label: string, ...contents: Array<Buffer | string>): string {
  const hash = createHash('sha1').update(label);
  for (const content of contents) hash.update(content);
  return `----=_Part_${label}_${hash.digest('hex').slice(0, 24)}`;
}

export interface BodyPart {
  headers: HeaderLines;
  body: Buffer | string;
}

export function writePart(part: BodyPart): Buffer {
  return Buffer.concat([
    Buffer.from(writeHeaders(part.headers) + CRLF, 'utf8'),
    toBuffer(part.body),
  ]);
}

/** The body of a multipart entity: parts separated by `boundary`, closed, CRLF throughout. */
export function writeMultipartBody(boundary: string, parts: Buffer[], preamble = ''): Buffer {
  const chunks: Buffer[] = [];
  if (preamble) chunks.push(Buffer.from(preamble + CRLF, 'latin1'));
  for (const part of parts)
    chunks.push(Buffer.from(`--${boundary}${CRLF}`, 'latin1'), part, Buffer.from(CRLF, 'latin1'));
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`, 'latin1'));
  return Buffer.concat(chunks);
}

export function toBuffer(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** RFC 5322 date in the given offset (minutes east of UTC), e.g. `Thu, 26 Nov 2026 10:15:30 +0100`. */
export function rfc5322Date(date: Date, offsetMinutes: number): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[local.getUTCDay()]}, ${pad(local.getUTCDate())} ${months[local.getUTCMonth()]} ${local.getUTCFullYear()} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${zone(offsetMinutes)}`;
}

/** `+0100` */
export function zone(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

/** Italian civil time offset at `date` (CET/CEST), as providers stamp it. */
const ROME = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Rome',
  timeZoneName: 'longOffset',
});

export function romeOffsetMinutes(date: Date): number {
  const name = ROME.formatToParts(date).find((part) => part.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}
