/** Structured request logs with pino: one line per request. */
import type { Middleware } from 'koa';
import { pino, type Logger } from 'pino';

export function createLogger(level = 'info'): Logger {
  return pino({ name: 'pectrack', level });
}

export function requestLogger(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        { method: ctx.method, url: ctx.url, status: ctx.status, ms: Math.round(ms * 10) / 10, user: ctx.state.actor?.username },
        'request',
      );
    }
  };
}
