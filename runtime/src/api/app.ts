/**
 * The HTTP application: operational endpoints, /api/v1 and the Camunda 7
 * subset under /engine-rest. Middleware order matters: logging and metrics
 * see the final status, which the error handlers set.
 */
import type { Server } from 'node:http';
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from 'pino';
import type { ConnectorDescription } from '../connectors/index.js';
import type { Intake } from '../intake/index.js';
import type { Services } from '../services/types.js';
import { knexOf, type Orm } from '../store/orm.js';
import { ormAccounts } from '../auth/accounts.js';
import {
  createAuthenticator,
  type AccountLookup,
  type Authenticator,
} from '../auth/authenticator.js';
import { camundaErrorHandler, engineRestEndpoints } from './camunda/index.js';
import { mount, type Endpoint } from './endpoint.js';
import { createLogger, requestLogger } from './http/logging.js';
import { createHttpMetrics } from './http/metrics.js';
import { registerWorkMetrics } from './http/work-metrics.js';
import type { MultipartLimits } from './http/multipart.js';
import { problemHandler } from './http/problem.js';
import { ApiCatalog } from './openapi/catalog.js';
import { buildOpenApiDocument } from './openapi/document.js';
import { mountOperational } from './routes/health.js';
import { apiV1Endpoints } from './routes/index.js';
import { fileEndpoints } from './routes/files.js';
import { mailboxEndpoints } from './routes/mailboxes.js';
import { pecMessageEndpoints } from './routes/pec-messages.js';

export interface ApiLimits {
  /** JSON request bodies. */
  jsonBytes: number;
  /** A BPMN diagram sent as a raw XML body. */
  xmlBytes: number;
  multipart: MultipartLimits;
  /** A file uploaded to attach to certified messages (streamed, never held in memory). */
  uploadBytes: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  jsonBytes: 1024 * 1024,
  xmlBytes: 5 * 1024 * 1024,
  multipart: { fileBytes: 5 * 1024 * 1024, files: 20, fields: 50, fieldBytes: 1024 * 1024 },
  uploadBytes: 100 * 1024 * 1024,
};

export interface AppOptions {
  services: Services;
  orm: Orm;
  /** Tenant of a Basic login without a `tenant/` prefix. */
  defaultTenant?: string;
  /** Defaults to the users and tokens in the ORM. */
  accounts?: AccountLookup;
  logger?: Logger;
  limits?: Partial<ApiLimits>;
  version?: string;
  /** What /api/v1/connectors lists (the runtime's installed connectors). */
  connectors?: ConnectorDescription[];
  /** The runtime's PEC intake: serves /api/v1/mailboxes and /api/v1/messages. */
  intake?: Intake;
  /** More /api/v1 resources, mounted like the built-in ones. */
  endpoints?: Endpoint[];
  /** Trust X-Forwarded-* headers (behind a reverse proxy): they then shape the links Camunda answers carry. */
  trustProxy?: boolean;
}

export interface PecTrackApp {
  koa: Koa;
  catalog: ApiCatalog;
  authenticate: Authenticator;
  openApi(): Record<string, unknown>;
  listen(port: number, host?: string): Promise<Server>;
}

export function createApp(options: AppOptions): PecTrackApp {
  const logger = options.logger ?? createLogger();
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const authenticate = createAuthenticator(
    options.accounts ?? ormAccounts(options.orm, options.defaultTenant ?? 'default'),
  );
  const catalog = new ApiCatalog();
  const metrics = createHttpMetrics();
  registerWorkMetrics(metrics.registry, knexOf(options.orm));
  const openApi = () => buildOpenApiDocument(catalog, options.version ?? '0.1.0');

  const root = new Router();
  mountOperational(
    root,
    {
      ready: async () => (await options.orm.checkConnection()).ok,
      registry: metrics.registry,
      openApi,
    },
    catalog,
  );

  const v1 = new Router({ prefix: '/api/v1' });
  v1.use(problemHandler(logger));
  const intakeEndpoints = options.intake
    ? [
        ...mailboxEndpoints(options.intake),
        ...pecMessageEndpoints(options.intake),
        ...fileEndpoints(options.intake, limits.uploadBytes),
      ]
    : [];
  const v1Endpoints = [
    ...apiV1Endpoints(options.services, limits, options.connectors),
    ...intakeEndpoints,
    ...(options.endpoints ?? []),
  ];
  mount(v1, v1Endpoints, {
    prefix: '/api/v1',
    tag: 'pectrack',
    authenticate,
    jsonLimitBytes: limits.jsonBytes,
    catalog,
    rejectUnknownFields: true,
  });

  const engineRest = new Router({ prefix: '/engine-rest' });
  engineRest.use(camundaErrorHandler(logger));
  mount(engineRest, engineRestEndpoints(options.services, limits.multipart), {
    prefix: '/engine-rest',
    tag: 'camunda',
    authenticate,
    jsonLimitBytes: limits.jsonBytes,
    catalog,
  });

  const koa = new Koa({ proxy: options.trustProxy ?? false });
  koa.silent = true;
  koa.use(requestLogger(logger));
  koa.use(metrics.middleware);
  koa.use(problemHandler(logger));
  for (const router of [root, v1, engineRest])
    koa.use(router.routes()).use(router.allowedMethods());

  return {
    koa,
    catalog,
    authenticate,
    openApi,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        const server = koa.listen(port, host, () => resolve(server));
        server.once('error', reject);
      }),
  };
}
