/**
 * The bytes a message row names, from the blob store. A row outlives its bytes when a blob is
 * lost (a restore from an older backup, a file removed by hand): that is a state of the message
 * to tell the caller, not a failure of the server.
 */
import { PecTrackError } from '../errors.js';
import { BlobDamagedError, BlobNotFoundError } from '../store/blobs.js';
import type { Message } from '../store/entities/message.js';

/** The bytes a message row names cannot be read: missing or damaged, the row keeps what it has. */
export class MessageBytesUnreadableError extends PecTrackError {}

/** The bytes a message row names are gone from the blob store: there is nothing to read. */
export class MessageBytesMissingError extends MessageBytesUnreadableError {
  /** `cannot`: what the caller cannot do without them (`be read`, `be read again`). */
  constructor(message: Pick<Message, 'id' | 'sha256'>, cannot = 'be read') {
    super(
      'message-bytes-missing',
      409,
      `message ${message.id} cannot ${cannot}: its bytes (blob ${message.sha256}) are not in the blob store`,
      { id: message.id, sha256: message.sha256 },
    );
  }
}

/**
 * The bytes a message row names are in the store but are not those stored: acting on them
 * (reading them again, showing their text) would take damage for the message.
 */
export class MessageBytesDamagedError extends MessageBytesUnreadableError {
  constructor(message: Pick<Message, 'id' | 'sha256'>, reason: string, cannot = 'be read') {
    super(
      'message-bytes-damaged',
      409,
      `message ${message.id} cannot ${cannot}: its bytes (blob ${message.sha256}) are damaged, ${reason}`,
      { id: message.id, sha256: message.sha256 },
    );
  }
}

/** What `read` gets from the message's bytes; missing or damaged, said as a MessageBytesUnreadableError. */
export async function fromStoredBytes<T>(
  message: Pick<Message, 'id' | 'sha256'>,
  read: () => Promise<T>,
  cannot?: string,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof BlobNotFoundError) throw new MessageBytesMissingError(message, cannot);
    if (error instanceof BlobDamagedError)
      throw new MessageBytesDamagedError(message, error.reason, cannot);
    throw error;
  }
}
