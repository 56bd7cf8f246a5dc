import {
  base64Lines,
  boundaryFor,
  CRLF,
  quotedPrintable,
  rfc5322Date,
  romeOffsetMinutes,
  writeHeaders,
  writeMultipartBody,
  writePart,
  type HeaderLines,
} from './mime.js';
import type { TestProvider } from './provider.js';
import { signEntity, type SignatureHash } from './smime.js';

export interface CertifiedMessageSpec {
  provider: TestProvider;
  date: Date;
  /** Top-level headers before MIME-Version/Content-Type (Date is written first). */
  headers: HeaderLines;
  /** The human-readable notice, written ISO-8859-1 quoted-printable as providers do. */
  notice: string;
  /** When set, the notice is multipart/alternative text + this HTML. */
  noticeHtml?: string;
  postacert?: Buffer;
  daticert?: Buffer;
  /** Real providers disagree on the order of postacert.eml and daticert.xml. */
  daticertFirst?: boolean;
  /** Parts with their own headers added after the standard ones (REM sections). */
  extraParts?: Buffer[];
  hash?: SignatureHash;
}

/** A provider message: signed multipart/mixed of notice, postacert.eml and daticert.xml (docs/pec.md). */
export function buildCertifiedMessage(spec: CertifiedMessageSpec): Buffer {
  const parts = [notice(spec)];
  const attached = [
    spec.postacert && postacertPart(spec.postacert),
    spec.daticert && daticertPart(spec.daticert),
  ].filter((part): part is Buffer => part !== undefined);
  parts.push(...(spec.daticertFirst ? attached.reverse() : attached), ...(spec.extraParts ?? []));
  const boundary = boundaryFor('mixed', ...parts);
  const content = Buffer.concat([
    Buffer.from(
      writeHeaders([['Content-Type', `multipart/mixed; boundary="${boundary}"`]]) + CRLF,
      'latin1',
    ),
    writeMultipartBody(boundary, parts),
  ]);
  const signed = signEntity(
    content,
    spec.provider.identity,
    spec.hash ?? spec.provider.hash ?? 'sha1',
    spec.date,
  );
  const headers: HeaderLines = [
    ['Date', rfc5322Date(spec.date, romeOffsetMinutes(spec.date))],
    ...spec.headers,
    ['MIME-Version', '1.0'],
    ['Content-Type', signed.contentType],
  ];
  return Buffer.concat([Buffer.from(writeHeaders(headers) + CRLF, 'utf8'), signed.body]);
}

function notice(spec: CertifiedMessageSpec): Buffer {
  const text = writePart({
    headers: [
      ['Content-Type', 'text/plain; charset=iso-8859-1'],
      ['Content-Transfer-Encoding', 'quoted-printable'],
    ],
    body: quotedPrintable(spec.notice, 'iso-8859-1') + CRLF,
  });
  if (spec.noticeHtml === undefined) return text;
  const html = writePart({
    headers: [
      ['Content-Type', 'text/html; charset=iso-8859-1'],
      ['Content-Transfer-Encoding', 'quoted-printable'],
    ],
    body: quotedPrintable(spec.noticeHtml, 'iso-8859-1') + CRLF,
  });
  const boundary = boundaryFor('alternative', text, html);
  return Buffer.concat([
    Buffer.from(
      writeHeaders([['Content-Type', `multipart/alternative; boundary="${boundary}"`]]) + CRLF,
      'latin1',
    ),
    writeMultipartBody(boundary, [text, html]),
  ]);
}

function postacertPart(postacert: Buffer): Buffer {
  return writePart({
    headers: [
      ['Content-Type', 'message/rfc822; name="postacert.eml"'],
      ['Content-Disposition', 'inline; filename="postacert.eml"'],
    ],
    body: postacert,
  });
}

function daticertPart(daticert: Buffer): Buffer {
  return writePart({
    headers: [
      ['Content-Type', 'application/xml; name="daticert.xml"'],
      ['Content-Transfer-Encoding', 'base64'],
      ['Content-Disposition', 'inline; filename="daticert.xml"'],
    ],
    body: base64Lines(daticert) + CRLF,
  });
}

/** `26/11/2026 alle ore 10:15:30 (+0100)` in Italian civil time, as notices write it. */
export function noticeTime(date: Date): string {
  const offset = romeOffsetMinutes(date);
  const local = new Date(date.getTime() + offset * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return `${pad(local.getUTCDate())}/${pad(local.getUTCMonth() + 1)}/${local.getUTCFullYear()} alle ore ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} (${zone})`;
}
