/** Prometheus metrics: process defaults plus one histogram of HTTP requests by route. */
import type { Middleware } from 'koa';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HttpMetrics {
  registry: Registry;
  middleware: Middleware;
}

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pectrack_' });
  const duration = new Histogram({
    name: 'pectrack_http_request_duration_seconds',
    help: 'HTTP request duration by method, matched route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const middleware: Middleware = async (ctx, next) => {
    const stop = duration.startTimer({ method: ctx.method });
    try {
      await next();
    } finally {
      // The route template, not the URL, keeps label cardinality bounded.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      stop({ route: String(route), status: String(ctx.status) });
    }
  };
  return { registry, middleware };
}
