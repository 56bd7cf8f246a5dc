/**
 * multipart/form-data through busboy with hard limits: a file over the size
 * limit or too many parts fails the request with 413 instead of being
 * silently truncated.
 */
import busboy from 'busboy';
import type { Context } from 'koa';
import { BadRequestError } from '../../errors.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';

export interface MultipartLimits {
  fileBytes: number;
  files: number;
  fields: number;
  fieldBytes: number;
}

export interface UploadedFile {
  field: string;
  filename: string;
  mimeType: string;
  content: Buffer;
}

export interface MultipartForm {
  fields: Record<string, string>;
  files: UploadedFile[];
}

export function isMultipart(ctx: Context): boolean {
  return ctx.is('multipart/form-data') === 'multipart/form-data';
}

export function readMultipart(ctx: Context, limits: MultipartLimits): Promise<MultipartForm> {
  if (!isMultipart(ctx)) {
    throw new UnsupportedMediaTypeError(ctx.get('content-type') || undefined, [
      'multipart/form-data',
    ]);
  }
  return new Promise((resolve, reject) => {
    const form: MultipartForm = { fields: {}, files: [] };
    let failed = false;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: ctx.req.headers,
        limits: {
          fileSize: limits.fileBytes,
          files: limits.files,
          fields: limits.fields,
          fieldSize: limits.fieldBytes,
        },
      });
    } catch (err) {
      reject(
        new BadRequestError(
          'invalid-multipart',
          `malformed multipart request: ${(err as Error).message}`,
        ),
      );
      return;
    }
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      ctx.req.unpipe(parser);
      // Keep draining so the socket can deliver the error response.
      ctx.req.resume();
      reject(err);
    };

    parser.on('field', (name, value, info) => {
      if (info.valueTruncated)
        fail(new PayloadTooLargeError(`form field ${name}`, limits.fieldBytes));
      else form.fields[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A truncated form fails the part's stream too; unheard, that error would crash the process.
      stream.on('error', (err: Error) =>
        fail(
          new BadRequestError('invalid-multipart', `malformed multipart request: ${err.message}`),
        ),
      );
      stream.on('limit', () =>
        fail(new PayloadTooLargeError(`file ${info.filename ?? field}`, limits.fileBytes)),
      );
      // 'end', not 'close': busboy may finish the form before a part's stream closes.
      stream.on('end', () => {
        if (failed) return;
        form.files.push({
          field,
          filename: info.filename ?? field,
          mimeType: info.mimeType,
          content: Buffer.concat(chunks),
        });
      });
    });
    parser.on('filesLimit', () =>
      fail(
        new BadRequestError(
          'too-many-files',
          `at most ${limits.files} files may be sent in one request`,
        ),
      ),
    );
    parser.on('fieldsLimit', () =>
      fail(
        new BadRequestError(
          'too-many-fields',
          `at most ${limits.fields} form fields may be sent in one request`,
        ),
      ),
    );
    parser.on('error', (err: Error) =>
      fail(new BadRequestError('invalid-multipart', `malformed multipart request: ${err.message}`)),
    );
    parser.on('close', () => {
      if (!failed) resolve(form);
    });
    // A client that hangs up mid-upload ends the request with an error that pipe() does not forward.
    ctx.req.on('error', (err: Error) =>
      fail(new BadRequestError('request-aborted', `the upload was interrupted: ${err.message}`)),
    );
    ctx.req.pipe(parser);
  });
}
