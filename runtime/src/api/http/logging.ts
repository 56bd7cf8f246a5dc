/** Structured request logs with pino: one line per request, tied to its answer by a request id. */
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { pino, type Logger } from 'pino';

export function createLogger(level = 'info'): Logger {
  return pino({ name: 'pectrack', level });
}

/** A caller's own id is kept when it is short and plain, so it cannot forge log lines. */
function requestId(header: string): string {
  return /^[A-Za-z0-9._:-]{1,100}$/.test(header) ? header : randomUUID();
}

export function requestLogger(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const id = requestId(ctx.get('x-request-id'));
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          requestId: id,
          method: ctx.method,
          url: ctx.url,
          status: ctx.status,
          ms: Math.round(ms * 10) / 10,
          user: ctx.state.actor?.username,
        },
        'request',
      );
    }
  };
}
