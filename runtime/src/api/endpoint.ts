/**
 * One API operation: its description (for OpenAPI), the permission it needs
 * and a thin handler. `mount` does the shared work every route needs:
 * authenticate, authorize, parse path/query/body with zod, and shape the
 * response, so handlers only call a service.
 */
import type { Context } from 'koa';
import type { Router } from '@koa/router';
import { z } from 'zod';
import type { Actor } from '../services/types.js';
import type { Authenticator } from '../auth/authenticator.js';
import { requirePermission, type Permission } from '../auth/permissions.js';
import { readJson } from './http/body.js';
import { parseInput } from './http/validate.js';
import type {
  ApiCatalog,
  ContentDoc,
  HttpMethod,
  ProblemDoc,
  ResponseDoc,
} from './openapi/catalog.js';

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Call<P, Q, B, H = undefined> {
  ctx: Context;
  actor: Actor;
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
  headers: Parsed<H>;
}

export interface EndpointSpec<P, Q, B, H = undefined> {
  method: HttpMethod;
  /** Relative to the router's prefix, Koa style (`/tasks/:id/claim`). */
  path: string;
  operationId: string;
  summary: string;
  permission: Permission;
  params?: P;
  query?: Q;
  /**
   * Request headers the operation reads, by their lower-case names (as Node gives them); other
   * headers are never refused.
   */
  headers?: H;
  /** A JSON body validated by this schema. */
  body?: B;
  /** Documents a body the handler reads itself (XML, multipart). */
  otherBody?: ContentDoc[];
  /** The status and schema of a successful answer; the handler's return value is the body. */
  success: ResponseDoc;
  /**
   * Problems a client should expect of this operation in particular (documented beside the
   * success; every error is a problem document whether listed or not).
   */
  problems?: ProblemDoc[];
}

interface ParsedCall {
  ctx: Context;
  actor: Actor;
  params: unknown;
  query: unknown;
  body: unknown;
  headers: unknown;
}

export interface Endpoint {
  spec: EndpointSpec<unknown, unknown, unknown, unknown>;
  handle(call: ParsedCall): Promise<unknown>;
}

export function endpoint<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  H extends z.ZodObject | undefined = undefined,
>(spec: EndpointSpec<P, Q, B, H>, handle: (call: Call<P, Q, B, H>) => Promise<unknown>): Endpoint {
  return { spec, handle } as unknown as Endpoint;
}

export interface MountOptions {
  prefix: string;
  tag: string;
  authenticate: Authenticator;
  jsonLimitBytes: number;
  catalog: ApiCatalog;
  /**
   * Refuse body and query fields the endpoint does not know (a 400 naming them): a misspelt
   * field silently ignored reads as accepted. Off for the Camunda surface, whose clients send
   * fields we do not use.
   */
  rejectUnknownFields?: boolean;
}

/** The top-level object of a body or query schema made strict; nested objects say so themselves. */
function strictInput(schema: unknown): unknown {
  return schema instanceof z.ZodObject ? schema.strict() : schema;
}

/**
 * What an operation that takes no body accepts: none, or an empty object. A field sent to it
 * would otherwise be ignored without a word, as if it had been honoured.
 */
const NO_BODY = z.strictObject({});

export function mount(router: Router, endpoints: Endpoint[], options: MountOptions): void {
  for (const endpoint of endpoints) {
    const { handle } = endpoint;
    const spec = options.rejectUnknownFields
      ? {
          ...endpoint.spec,
          query: strictInput(endpoint.spec.query),
          body: strictInput(endpoint.spec.body),
        }
      : endpoint.spec;
    options.catalog.add({
      method: spec.method,
      path: options.prefix + spec.path,
      operationId: spec.operationId,
      summary: spec.summary,
      tag: options.tag,
      secured: true,
      permission: spec.permission,
      params: spec.params as z.ZodObject | undefined,
      query: spec.query as z.ZodObject | undefined,
      headers: spec.headers as z.ZodObject | undefined,
      requestBody: spec.body
        ? [{ contentType: 'application/json', schema: spec.body as z.ZodType }]
        : spec.otherBody,
      responses: [spec.success],
      problems: spec.problems,
    });
    router[spec.method](spec.path, async (ctx) => {
      const actor = await options.authenticate(ctx.get('authorization') || undefined);
      ctx.state.actor = actor;
      requirePermission(actor, spec.permission);
      const call: ParsedCall = {
        ctx,
        actor,
        params: spec.params ? parseInput(spec.params as z.ZodType, ctx.params, 'path') : undefined,
        query: spec.query ? parseInput(spec.query as z.ZodType, ctx.query, 'query') : undefined,
        headers: spec.headers
          ? parseInput(spec.headers as z.ZodType, ctx.headers, 'header')
          : undefined,
        body: spec.body
          ? parseInput(spec.body as z.ZodType, await readJson(ctx, options.jsonLimitBytes), 'body')
          : undefined,
      };
      if (options.rejectUnknownFields && !spec.body && !spec.otherBody && spec.method !== 'get')
        parseInput(NO_BODY, await readJson(ctx, options.jsonLimitBytes), 'body');
      const result = await handle(call);
      if (result === undefined) {
        ctx.status = 204;
        return;
      }
      ctx.status = spec.success.status;
      // A handler that knows the media type (an attachment's own) has set it already.
      if (spec.success.contentType && spec.success.contentType !== 'application/json' && !ctx.type)
        ctx.type = spec.success.contentType;
      ctx.body = result;
    });
  }
}
