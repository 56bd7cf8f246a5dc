/** What both readings of a message (outline.ts, and mailparser's in mail-stream.ts) know of a leaf part. */
export interface LeafPart {
  /** Lower-cased media type. */
  contentType: string;
  /** Lower-cased Content-Disposition value, null when absent. */
  disposition: string | null;
  filename: string | null;
}

/**
 * Whether a leaf is the message's text rather than an attachment, one rule for both readings: an
 * inline (or undisposed) text/plain or text/html part that carries no file name. A text part
 * with a file name (`name=` or `filename=`) is a file the sender attached: a breve receipt's
 * `<filename>.hash` is one, often with no Content-Disposition at all, and folded into the text
 * it would lose the hash it stands for.
 */
export function isBodyText(part: LeafPart): boolean {
  return (
    (part.contentType === 'text/plain' || part.contentType === 'text/html') &&
    (part.disposition === null || part.disposition === 'inline') &&
    !part.filename
  );
}
