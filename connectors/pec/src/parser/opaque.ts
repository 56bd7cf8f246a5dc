import type { MimeEntity } from '../mime/entity.js';

const CONTENT_FIELD = /^content-/i;

/**
 * The message an opaque S/MIME envelope stands for: its own header fields (Message-ID, the PEC
 * X- fields, From, To…) but the Content-* ones, which describe the signature wrapper, followed by
 * the signed entity it carries (its own Content-* fields, a blank line, its body). The parser then
 * reads it as it reads the first part of a multipart/signed message.
 */
export function withCarriedEntity(raw: Buffer, root: MimeEntity, entity: Buffer): Buffer {
  // Latin-1 maps each byte to one character, so the bytes come back unchanged.
  const section = raw.subarray(root.start, root.bodyStart).toString('latin1');
  const fields = section.replace(/\r?\n$/, '').split(/(?<=\n)(?![ \t])/);
  const kept = fields.filter((field) => !CONTENT_FIELD.test(field));
  return Buffer.concat([Buffer.from(kept.join(''), 'latin1'), entity]);
}
