/**
 * /api/v1/files: upload a file to send as an attachment (the body is the file itself, streamed
 * into the blob store), read its description and its bytes back. A send names it by id
 * (`attachments: [{ fileId }]`), a send task by its SHA-256 (`blob`).
 */
import { z } from 'zod';
import type { Intake } from '../../intake/index.js';
import { BadRequestError } from '../../errors.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { PayloadTooLargeError } from '../http/errors.js';
import { MEDIA_TYPE } from '../http/media-type.js';
import { IdParams, Paging } from '../schemas.js';

export const FileView = z.object({
  id: z.string(),
  sha256: z.string(),
  size: z.number().int(),
  filename: z.string(),
  contentType: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
});

const UploadQuery = z.object({
  filename: z.string().min(1).max(255).describe('The name the attachment will carry'),
});

/** `filename*=UTF-8''...` (RFC 6266) so an accented name survives; the plain form for old clients. */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

const CHARSET = /;\s*charset="?([a-z0-9!#$&^_.+-]+)"?/i;

/** The longest name a charset is registered under (RFC 2978): a longer one names none. */
const CHARSET_NAME_MAX = 40;

/** The charset the Content-Type declares, lower case; undefined when it declares none. */
function charsetOf(header: string): string | undefined {
  const charset = CHARSET.exec(header)?.[1];
  if (charset && charset.length > CHARSET_NAME_MAX)
    throw new BadRequestError(
      'invalid-content-type',
      `Content-Type charset "${charset.slice(0, 80)}" is longer than ${CHARSET_NAME_MAX} characters: it names no charset the attachment could be read in`,
      { field: 'content-type' },
    );
  return charset?.toLowerCase();
}

/**
 * The upload's media type, lower case, keeping only its charset (a text attachment read in the
 * wrong one garbles every accent); none: octet-stream.
 */
function mediaTypeOf(header: string): string {
  if (!header) return 'application/octet-stream';
  const essence = header.split(';')[0]!.trim().toLowerCase();
  if (!MEDIA_TYPE.test(essence))
    throw new BadRequestError(
      'invalid-content-type',
      `Content-Type "${header}" is not a media type (type/subtype): it is the type the attachment will carry`,
      { field: 'content-type' },
    );
  const charset = charsetOf(header);
  const type = charset ? `${essence}; charset=${charset}` : essence;
  // What the file's row keeps (255 characters): a longer one names no real type anyway.
  if (type.length > 255)
    throw new BadRequestError(
      'invalid-content-type',
      `Content-Type "${header.slice(0, 80)}…" is longer than 255 characters`,
      { field: 'content-type' },
    );
  return type;
}

export function fileEndpoints(intake: Intake, uploadBytes: number): Endpoint[] {
  return [
    endpoint(
      {
        method: 'post',
        path: '/files',
        operationId: 'uploadFile',
        summary:
          'Upload a file to attach to certified messages: the body is the file, its Content-Type the media type the attachment will carry',
        permission: 'pec:send',
        query: UploadQuery,
        otherBody: [
          {
            contentType: 'application/octet-stream',
            jsonSchema: { type: 'string', format: 'binary' },
          },
        ],
        success: {
          status: 201,
          description: 'Stored',
          contentType: 'application/json',
          schema: FileView,
        },
      },
      async ({ ctx, actor, query }) => {
        const declared = Number(ctx.get('content-length') || 0);
        if (declared > uploadBytes) throw new PayloadTooLargeError('the file', uploadBytes);
        try {
          return await intake.files.upload(actor.tenantId, {
            filename: query.filename,
            contentType: mediaTypeOf(ctx.get('content-type')),
            content: ctx.req,
            maxBytes: uploadBytes,
            createdBy: actor.username,
          });
        } catch (error) {
          // What the client still sends is read and dropped, so it hears the answer.
          ctx.req.resume();
          throw error;
        }
      },
    ),
    endpoint(
      {
        method: 'get',
        path: '/files',
        operationId: 'listFiles',
        summary: 'The files uploaded in this tenant, newest first',
        permission: 'pec:read',
        query: z.object({ ...Paging }),
        success: {
          status: 200,
          description: 'Files',
          contentType: 'application/json',
          schema: z.array(FileView),
        },
      },
      async ({ actor, query }) => intake.files.list(actor.tenantId, query),
    ),
    endpoint(
      {
        method: 'delete',
        path: '/files/:id',
        operationId: 'deleteFile',
        summary:
          'Forget an uploaded file: sends can no longer name it (messages already sent keep their copy)',
        permission: 'pec:send',
        params: IdParams,
        success: { status: 204, description: 'Deleted' },
      },
      async ({ actor, params }) => {
        await intake.files.remove(actor.tenantId, params.id);
        return undefined;
      },
    ),
    endpoint(
      {
        method: 'get',
        path: '/files/:id',
        operationId: 'getFile',
        summary: 'An uploaded file: name, media type, size, SHA-256',
        permission: 'pec:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'The file',
          contentType: 'application/json',
          schema: FileView,
        },
      },
      async ({ actor, params }) => intake.files.get(actor.tenantId, params.id),
    ),
    endpoint(
      {
        method: 'get',
        path: '/files/:id/content',
        operationId: 'downloadFile',
        summary: 'The bytes of an uploaded file, with its media type',
        permission: 'pec:read',
        params: IdParams,
        success: {
          status: 200,
          description: 'The file',
          contentType: 'application/octet-stream',
          schema: z.string(),
        },
      },
      async ({ ctx, actor, params }) => {
        const { file, stream } = await intake.files.open(actor.tenantId, params.id);
        ctx.type = file.contentType;
        ctx.length = file.size;
        ctx.set('Content-Disposition', contentDisposition(file.filename));
        // The media type is the uploader's word: a browser must not render it as anything else.
        ctx.set('X-Content-Type-Options', 'nosniff');
        return stream;
      },
    ),
  ];
}
