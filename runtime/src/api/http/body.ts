/** Reads request bodies with a byte limit, so one large request cannot exhaust memory. */
import getRawBody from 'raw-body';
import type { Context } from 'koa';
import { BadRequestError } from '../../errors.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';

export async function readBytes(ctx: Context, limitBytes: number): Promise<Buffer> {
  try {
    return await getRawBody(ctx.req, {
      limit: limitBytes,
      length: ctx.get('content-length') || undefined,
    });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') {
      throw new PayloadTooLargeError('request body', limitBytes);
    }
    throw err;
  }
}

export async function readText(ctx: Context, limitBytes: number): Promise<string> {
  return (await readBytes(ctx, limitBytes)).toString('utf8');
}

/** An absent body reads as `{}` so endpoints whose fields are all optional accept an empty POST. */
export async function readJson(ctx: Context, limitBytes: number): Promise<unknown> {
  const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
  if (!hasBody) return {};
  if (!ctx.is('application/json', 'application/*+json')) {
    throw new UnsupportedMediaTypeError(ctx.get('content-type') || undefined, ['application/json']);
  }
  const text = await readText(ctx, limitBytes);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequestError(
      'invalid-json',
      `request body is not valid JSON: ${(err as Error).message}`,
    );
  }
}
