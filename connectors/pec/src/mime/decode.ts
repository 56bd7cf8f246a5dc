import libqp from 'libqp';

/** Decodes a part body by its Content-Transfer-Encoding; unknown encodings pass through as bytes. */
export function decodeTransfer(body: Buffer, transferEncoding: string): Buffer {
  switch (transferEncoding) {
    case 'base64':
      return Buffer.from(body.toString('latin1'), 'base64');
    case 'quoted-printable':
      return libqp.decode(body);
    default:
      return body;
  }
}
