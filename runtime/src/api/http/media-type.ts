/**
 * Media types and charsets as a Content-Type header may carry them: RFC 9110 tokens, so a value
 * someone else wrote (an uploader, the sender of a message) never reaches a header Node refuses.
 */

/** `type/subtype`, lower case, without parameters. */
export const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

const CHARSET_NAME = /^[a-z0-9!#$&^_.+-]{1,40}$/i;

/**
 * The Content-Type of content whose media type and charset its sender declared: exactly those, as
 * a client reads text in the charset it is told (none declared: none sent, not a default). A type
 * that is not `type/subtype` becomes octet-stream; a charset that is not a token is left out.
 */
export function declaredContentType(type: string, charset: string | null): string {
  if (!MEDIA_TYPE.test(type)) return 'application/octet-stream';
  return charset && CHARSET_NAME.test(charset) ? `${type}; charset=${charset}` : type;
}
