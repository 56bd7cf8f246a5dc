/**
 * Maps any thrown error to an RFC 9457 problem document. Domain errors keep
 * their code and details; anything unexpected becomes an opaque 500 (logged,
 * never echoed) so internals and stack traces do not leak.
 */
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { PecTrackError } from '../../errors.js';
import { CommandRejected } from '../../engine/types.js';

export const PROBLEM_BASE = 'https://pectrack.org/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Errors from libraries such as raw-body and http-errors carry `status` and `expose`. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message: string;
}

export function toProblem(err: unknown): Problem {
  if (err instanceof PecTrackError) {
    return problem(err.status, err.code, err.message, err.details);
  }
  if (err instanceof CommandRejected) {
    return problem(409, 'conflict', err.message, { reason: err.code });
  }
  const http = err as HttpLikeError;
  const status = http?.status ?? http?.statusCode;
  if (status && status >= 400 && status < 500 && http.expose !== false) {
    const code =
      status === 413 ? 'payload-too-large' : (http.type ?? 'bad-request').replace(/\./g, '-');
    return problem(status, code, http.message);
  }
  return problem(500, 'internal', 'the server failed to handle the request; the error was logged');
}

function problem(
  status: number,
  code: string,
  detail: string,
  details?: Record<string, unknown>,
): Problem {
  return {
    ...details,
    type: PROBLEM_BASE + code,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
  };
}

export const AUTHENTICATE_CHALLENGE = [
  'Basic realm="pectrack", charset="UTF-8"',
  'Bearer realm="pectrack"',
];

export function problemHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // Routers answer these without a body; give them one like every other error.
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new PecTrackError('route-not-found', 404, `no route for ${ctx.method} ${ctx.path}`);
      }
      if (ctx.status === 405 && ctx.body === undefined) {
        const allowed = ctx.response.get('Allow');
        throw new PecTrackError(
          'method-not-allowed',
          405,
          `${ctx.method} is not allowed on ${ctx.path}; use ${allowed}`,
        );
      }
    } catch (err) {
      const body = toProblem(err);
      const requestId = ctx.state.requestId as string | undefined;
      if (requestId) body.instance = `urn:pectrack:request:${requestId}`;
      if (body.status >= 500)
        logger.error({ err, requestId, method: ctx.method, url: ctx.url }, 'request failed');
      if (body.status === 401) ctx.set('WWW-Authenticate', AUTHENTICATE_CHALLENGE);
      // The rest of an oversized body is not read; closing tells the client to stop sending it.
      if (body.status === 413) ctx.set('Connection', 'close');
      // A problem that says when to try again (a mailbox's sending pace) says it in HTTP too.
      if (typeof body.retryAfterMs === 'number')
        ctx.set('Retry-After', String(Math.ceil(body.retryAfterMs / 1000)));
      ctx.status = body.status;
      ctx.type = PROBLEM_CONTENT_TYPE;
      ctx.body = body;
    }
  };
}
