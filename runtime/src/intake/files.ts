/**
 * Files uploaded to go out as attachments of certified messages: the signed PDF of a reply is
 * usually megabytes, more than a JSON body carries, so it is streamed into the blob store once
 * (never held whole in memory) and a send then names it. The blob is shared by content; the
 * row is the tenant's, and a tenant only ever reaches files it uploaded.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BadRequestError, NotFoundError, PecTrackError } from '../errors.js';
import { UploadedFileSchema, type UploadedFile } from '../store/entities/uploaded-file.js';
import { BlobDamagedError, BlobNotFoundError } from '../store/blobs.js';
import { tenantFork } from '../store/orm.js';
import type { IntakeContext } from './context.js';

export class FileTooLargeError extends PecTrackError {
  constructor(limitBytes: number) {
    super(
      'payload-too-large',
      413,
      `the file exceeds the upload limit of ${limitBytes} bytes (PECTRACK_UPLOAD_MAX_MB); PEC providers refuse messages above 30-100 MB anyway`,
      { limitBytes },
    );
  }
}

export interface FileView {
  id: string;
  sha256: string;
  size: number;
  filename: string;
  contentType: string;
  createdAt: string;
  createdBy: string;
}

export interface Upload {
  filename: string;
  contentType: string;
  content: AsyncIterable<Buffer>;
  maxBytes: number;
  createdBy: string;
}

/** A file's name as an attachment carries it: no directory part, no control characters. */
function checkedFilename(filename: string): string {
  const name = filename.split(/[\\/]/).pop()!.trim();
  if (name.length === 0 || name.length > 255 || /[\u0000-\u001f\u007f]/.test(name))
    throw new BadRequestError(
      'invalid-filename',
      `filename must be 1 to 255 characters without control characters or a directory, got "${filename}"`,
      { field: 'filename' },
    );
  return name;
}

/** The bytes as they come, failing as soon as they pass the limit (the rest is never stored). */
async function* limited(content: AsyncIterable<Buffer>, maxBytes: number): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of content) {
    size += chunk.length;
    if (size > maxBytes) throw new FileTooLargeError(maxBytes);
    yield chunk;
  }
}

function viewOf(row: UploadedFile): FileView {
  return {
    id: row.id,
    sha256: row.sha256,
    size: row.size,
    filename: row.filename,
    contentType: row.contentType,
    createdAt: new Date(row.createdAt).toISOString(),
    createdBy: row.createdBy,
  };
}

export function fileServices(ctx: IntakeContext) {
  const em = (tenantId: string) => tenantFork(ctx.orm, tenantId);

  async function find(tenantId: string, id: string): Promise<UploadedFile> {
    const row = await em(tenantId).findOne(UploadedFileSchema, { id });
    if (!row) throw new NotFoundError('file', id);
    return row;
  }

  return {
    async upload(tenantId: string, upload: Upload): Promise<FileView> {
      const filename = checkedFilename(upload.filename);
      const stored = await ctx.blobs.put(Readable.from(limited(upload.content, upload.maxBytes)));
      if (stored.size === 0)
        throw new BadRequestError('empty-file', 'the file is empty: nothing to attach', {
          field: 'body',
        });
      // Durable before the row that names it, as every blob a commit refers to.
      await ctx.blobs.flush();
      const row = em(tenantId).create(UploadedFileSchema, {
        id: randomUUID(),
        tenant: tenantId,
        sha256: stored.sha256,
        size: stored.size,
        filename,
        contentType: upload.contentType,
        createdAt: ctx.now(),
        createdBy: upload.createdBy,
      });
      await em(tenantId).persistAndFlush(row);
      return viewOf(row);
    },

    async get(tenantId: string, id: string): Promise<FileView> {
      return viewOf(await find(tenantId, id));
    },

    /** The tenant's files, newest first. */
    async list(tenantId: string, page: { limit?: number; offset?: number }): Promise<FileView[]> {
      const rows = await em(tenantId).find(
        UploadedFileSchema,
        {},
        {
          orderBy: { createdAt: 'desc', id: 'asc' },
          limit: page.limit ?? 100,
          offset: page.offset ?? 0,
        },
      );
      return rows.map(viewOf);
    },

    /**
     * Forgets a file: no send can name it any more (a send task that still does raises an
     * incident). Its bytes stay in the blob store, where another upload of the same bytes, or a
     * message that carried them, may still need them.
     */
    async remove(tenantId: string, id: string): Promise<void> {
      const deleted = await em(tenantId).nativeDelete(UploadedFileSchema, { id });
      if (deleted === 0) throw new NotFoundError('file', id);
    },

    /** The file's description and its bytes, streamed. */
    async open(tenantId: string, id: string): Promise<{ file: FileView; stream: Readable }> {
      const row = await find(tenantId, id);
      return { file: viewOf(row), stream: await bytesOf(row, () => ctx.blobs.open(row.sha256)) };
    },

    /**
     * Whether the tenant uploaded a file with these bytes: a send task names its attachments by
     * SHA-256, and blobs are shared across tenants, so this is what keeps one tenant from
     * attaching another's bytes.
     */
    async holds(tenantId: string, sha256: string): Promise<boolean> {
      return (await em(tenantId).count(UploadedFileSchema, { sha256 })) > 0;
    },

    /** The file whole, to attach; null when the tenant has no file with this id. */
    async content(
      tenantId: string,
      id: string,
    ): Promise<{ file: FileView; content: Buffer } | null> {
      const row = await em(tenantId).findOne(UploadedFileSchema, { id });
      if (!row) return null;
      return {
        file: viewOf(row),
        content: await bytesOf(row, () => ctx.blobs.read(row.sha256, row.size)),
      };
    },
  };
}

export type FileServices = ReturnType<typeof fileServices>;

/** The bytes an uploaded file's row names are gone from the blob store (as a message's may be). */
export class FileBytesMissingError extends PecTrackError {
  constructor(file: Pick<UploadedFile, 'id' | 'sha256'>) {
    super(
      'file-bytes-missing',
      409,
      `file ${file.id} cannot be read: its bytes (blob ${file.sha256}) are not in the blob store; upload it again`,
      { id: file.id, sha256: file.sha256 },
    );
  }
}

/** An uploaded file's bytes no longer hash to its name: attaching them would certify damage. */
export class FileBytesDamagedError extends PecTrackError {
  constructor(file: Pick<UploadedFile, 'id' | 'sha256'>, reason: string) {
    super(
      'file-bytes-damaged',
      409,
      `file ${file.id} cannot be read: its bytes (blob ${file.sha256}) are damaged, ${reason}; upload it again`,
      { id: file.id, sha256: file.sha256 },
    );
  }
}

async function bytesOf<T>(file: UploadedFile, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof BlobNotFoundError) throw new FileBytesMissingError(file);
    if (error instanceof BlobDamagedError) throw new FileBytesDamagedError(file, error.reason);
    throw error;
  }
}
