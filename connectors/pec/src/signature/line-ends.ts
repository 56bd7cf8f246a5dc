/**
 * S/MIME signs the canonical (CRLF) form. A message stored with bare LF line ends (some mail stores
 * do that) is checked again in canonical form before it is called tampered.
 */
export function hasBareLineFeed(bytes: Buffer): boolean {
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1))
    if (at === 0 || bytes[at - 1] !== 0x0d) return true;
  return false;
}

export function toCanonicalLineEnds(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}
