/** HTTP-level errors the transport raises before any service is called. */
import { PecTrackError } from '../../errors.js';

export class PayloadTooLargeError extends PecTrackError {
  constructor(what: string, limitBytes: number) {
    super('payload-too-large', 413, `${what} exceeds the limit of ${limitBytes} bytes`, {
      limitBytes,
    });
  }
}

export class UnsupportedMediaTypeError extends PecTrackError {
  constructor(received: string | undefined, accepted: string[]) {
    super(
      'unsupported-media-type',
      415,
      `content type ${received ?? '(none)'} is not accepted here; send one of ${accepted.join(', ')}`,
      { accepted },
    );
  }
}
