import libqp from 'libqp';

/** Decodes a part body by its Content-Transfer-Encoding; unknown encodings pass through as bytes. */
export function decodeTransfer(body: Buffer, transferEncoding: string): Buffer {
  switch (transferEncoding) {
    case 'base64':
      return decodeBase64(body);
    case 'quoted-printable':
      return libqp.decode(body);
    default:
      return body;
  }
}

export const PAD = 0x3d;

/**
 * Base64 as written, line breaks and stray bytes skipped. Some gateways pad chunks separately
 * (every line, every block) and go on after the `=`; Node's decoder stops at the first `=`, so
 * each padded chunk is then decoded in turn. A body padded only at its end, the usual one, is
 * decoded by Node's decoder in one go.
 */
export function decodeBase64(body: Buffer): Buffer {
  const pad = body.indexOf(PAD);
  if (pad < 0 || !hasBase64After(body, pad)) return Buffer.from(body.toString('latin1'), 'base64');
  // A chunk of n characters decodes to at most n * 3 / 4 bytes.
  const decoded = Buffer.alloc(Math.ceil((body.length * 3) / 4));
  let length = 0;
  for (let start = 0; start < body.length;) {
    let end = body.indexOf(PAD, start);
    if (end < 0) end = body.length;
    if (end > start) length += decoded.write(body.toString('latin1', start, end), length, 'base64');
    start = end + 1;
  }
  return decoded.subarray(0, length);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
export const BASE64_ALPHABET = new Uint8Array(256);
for (const c of ALPHABET) BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/** Whether a base64 character follows `from`: padding that does not end the body. */
function hasBase64After(body: Buffer, from: number): boolean {
  for (let at = from + 1; at < body.length; at += 1)
    if (BASE64_ALPHABET[body[at]!] === 1) return true;
  return false;
}
