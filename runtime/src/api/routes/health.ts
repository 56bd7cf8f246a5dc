/** Operational endpoints without authentication: liveness, readiness, metrics, API description. */
import type { Router } from '@koa/router';
import type { Registry } from 'prom-client';
import { PecTrackError } from '../../errors.js';
import type { ApiCatalog } from '../openapi/catalog.js';

export interface OperationalDeps {
  /** Resolves when the database answers; rejects or returns false when it does not. */
  ready: () => Promise<boolean>;
  registry: Registry;
  openApi: () => Record<string, unknown>;
}

class NotReadyError extends PecTrackError {
  constructor(reason: string) {
    super('not-ready', 503, `not ready: ${reason}`);
  }
}

export function mountOperational(router: Router, deps: OperationalDeps, catalog: ApiCatalog): void {
  const doc = (path: string, operationId: string, summary: string, contentType: string) =>
    catalog.add({
      method: 'get',
      path,
      operationId,
      summary,
      tag: 'operations',
      secured: false,
      responses: [{ status: 200, description: summary, contentType, jsonSchema: {} }],
    });

  doc('/healthz', 'healthz', 'The process is alive', 'application/json');
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  doc('/readyz', 'readyz', 'The database is reachable', 'application/json');
  router.get('/readyz', async (ctx) => {
    const ok = await deps.ready().catch((err: unknown) => {
      throw new NotReadyError(`database unreachable (${(err as Error).message})`);
    });
    if (!ok) throw new NotReadyError('database unreachable');
    ctx.body = { status: 'ready' };
  });

  doc('/metrics', 'metrics', 'Prometheus metrics', 'text/plain');
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.registry.contentType;
    ctx.body = await deps.registry.metrics();
  });

  doc('/api/v1/openapi.json', 'openapi', 'This OpenAPI 3.1 document', 'application/json');
  router.get('/api/v1/openapi.json', (ctx) => {
    ctx.body = deps.openApi();
  });
}
