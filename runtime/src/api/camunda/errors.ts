/**
 * Errors on /engine-rest take Camunda's shape `{ type, message }` so Camunda
 * clients show them. Deployment problems carry Camunda's ParseException
 * prefix, which is what Camunda Modeler looks for to show a parse error.
 */
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { ValidationError } from '../../errors.js';
import { toProblem } from '../http/problem.js';

export const PARSE_ERROR_PREFIX = 'ENGINE-09005 Could not parse BPMN process. Errors: ';

const TYPES: Record<number, string> = {
  400: 'InvalidRequestException',
  401: 'AuthenticationException',
  403: 'AuthorizationException',
  404: 'InvalidRequestException',
  409: 'OptimisticLockingException',
  413: 'InvalidRequestException',
  415: 'InvalidRequestException',
  422: 'InvalidRequestException',
  429: 'AuthenticationException',
};

const XML_CODES = new Set(['invalid-xml', 'xml-forbidden-construct', 'no-files']);

export interface CamundaError {
  type: string;
  message: string;
  details?: unknown;
}

function parseException(
  problems: { elementId?: string; type?: string; reason: string }[],
  resource: string,
): CamundaError {
  const lines = problems.map(
    (p) => `\n* ${p.reason}${p.elementId ? ` | ${resource} | element ${p.elementId}` : ''}`,
  );
  return {
    type: 'ParseException',
    message: PARSE_ERROR_PREFIX + lines.join(''),
    details: {
      [resource]: {
        errors: problems.map((p) => ({
          message: p.reason,
          line: 0,
          column: 0,
          mainElementId: p.elementId ?? null,
          elementIds: p.elementId ? [p.elementId] : [],
        })),
        warnings: [],
      },
    },
  };
}

export function toCamundaError(
  err: unknown,
  resource: string,
): { status: number; body: CamundaError } {
  if (err instanceof ValidationError)
    return { status: 400, body: parseException(err.problems, resource) };
  const problem = toProblem(err);
  const code = problem.type.slice(problem.type.lastIndexOf('/') + 1);
  if (XML_CODES.has(code))
    return { status: 400, body: parseException([{ reason: problem.detail }], resource) };
  const type = TYPES[problem.status] ?? 'RestException';
  return { status: problem.status, body: { type, message: problem.detail } };
}

export function camundaErrorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const { status, body } = toCamundaError(
        err,
        String(ctx.state.resourceName ?? 'diagram.bpmn'),
      );
      if (status >= 500) {
        logger.error(
          { err, requestId: ctx.state.requestId, method: ctx.method, url: ctx.url },
          'engine-rest request failed',
        );
      }
      if (status === 401) ctx.set('WWW-Authenticate', 'Basic realm="pectrack"');
      if (status === 413) ctx.set('Connection', 'close');
      const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs;
      if (status === 429 && typeof retryAfterMs === 'number')
        ctx.set('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
      ctx.status = status;
      ctx.body = body;
    }
  };
}
