/**
 * Just enough DER/BER to find the pieces of a CMS SignedData by offset, without decoding the
 * certificates inside it (those are parsed once and cached). Definite and indefinite lengths are
 * both read: OpenSSL-made S/MIME signatures use indefinite-length BER for the outer layers.
 */
export interface Tlv {
  tagClass: number;
  constructed: boolean;
  tagNumber: number;
  /** Start of the identifier octet. */
  start: number;
  /** First content octet. */
  contentStart: number;
  /** End of the content (before the end-of-contents octets of an indefinite length). */
  contentEnd: number;
  /** End of the whole element. */
  end: number;
}

const MAX_DEPTH = 32;

export function readTlv(
  bytes: Uint8Array,
  start: number,
  limit: number = bytes.length,
  depth = 0,
): Tlv {
  if (depth > MAX_DEPTH) throw new Error('ASN.1 nesting too deep');
  let at = start;
  const identifier = byteAt(bytes, at++, limit);
  let tagNumber = identifier & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    let octet: number;
    do {
      octet = byteAt(bytes, at++, limit);
      tagNumber = tagNumber * 128 + (octet & 0x7f);
    } while (octet & 0x80);
  }
  const constructed = (identifier & 0x20) !== 0;
  const first = byteAt(bytes, at++, limit);
  const tagClass = identifier >> 6;
  if (first === 0x80) {
    if (!constructed) throw new Error('indefinite length on a primitive value');
    let cursor = at;
    while (!(byteAt(bytes, cursor, limit) === 0 && byteAt(bytes, cursor + 1, limit) === 0))
      cursor = readTlv(bytes, cursor, limit, depth + 1).end;
    return {
      tagClass,
      constructed,
      tagNumber,
      start,
      contentStart: at,
      contentEnd: cursor,
      end: cursor + 2,
    };
  }
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw new Error('ASN.1 length too large');
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + byteAt(bytes, at++, limit);
  }
  if (at + length > limit) throw new Error('ASN.1 value runs past its container');
  // One object literal of one shape: spreading a partial header cost more than the rest of the read.
  return {
    tagClass,
    constructed,
    tagNumber,
    start,
    contentStart: at,
    contentEnd: at + length,
    end: at + length,
  };
}

export function childrenOf(bytes: Uint8Array, parent: Tlv, depth = 0): Tlv[] {
  if (!parent.constructed) throw new Error('expected a constructed value');
  const found: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.contentEnd;) {
    const child = readTlv(bytes, at, parent.contentEnd, depth + 1);
    found.push(child);
    at = child.end;
  }
  return found;
}

function byteAt(bytes: Uint8Array, at: number, limit: number): number {
  const value = bytes[at];
  if (at >= limit || value === undefined) throw new Error('ASN.1 value truncated');
  return value;
}

/** Universal tag numbers the CMS reader checks. */
export const TAG = {
  integer: 2,
  octetString: 4,
  null: 5,
  objectIdentifier: 6,
  sequence: 16,
  set: 17,
} as const;

export function isUniversal(tlv: Tlv, tagNumber: number): boolean {
  return tlv.tagClass === 0 && tlv.tagNumber === tagNumber;
}

export function isContextTag(tlv: Tlv, tagNumber: number): boolean {
  return tlv.tagClass === 2 && tlv.tagNumber === tagNumber;
}

export function contentOf(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.contentStart, tlv.contentEnd);
}

/** Dotted form of an OBJECT IDENTIFIER value. */
export function oidOf(bytes: Uint8Array, tlv: Tlv): string {
  if (
    !isUniversal(tlv, TAG.objectIdentifier) ||
    tlv.constructed ||
    tlv.contentEnd === tlv.contentStart
  )
    throw new Error('expected an OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (let at = tlv.contentStart; at < tlv.contentEnd; at += 1) {
    const octet = bytes[at] ?? 0;
    value = value * 128 + (octet & 0x7f);
    if (octet & 0x80) continue;
    if (arcs.length > 0) arcs.push(value);
    else {
      const first = Math.min(2, Math.floor(value / 40));
      arcs.push(first, value - first * 40);
    }
    value = 0;
  }
  return arcs.join('.');
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
