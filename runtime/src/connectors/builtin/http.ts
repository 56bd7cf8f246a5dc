/**
 * `pectrack:http`: one JSON request to a URL, so a service task can call a web service without a
 * custom connector. 5xx, 408, 425, 429 and network failures are retryable (the far side may
 * recover, or asked for the request again); other non-2xx answers are not (the same request
 * would be refused again). A 429 or 503 with Retry-After is called again when the service said,
 * and is not counted as a failure.
 */
import { ConnectorError, defineConnector } from '@pectrack/connector-sdk';
import { z } from 'zod';

const Config = z.object({
  /** Per request; the scheduler's own connector timeout still applies on top. */
  timeoutMs: z.number().int().min(100).max(300_000).default(10_000),
});

const RequestInput = z.object({
  url: z.url({ protocol: /^https?$/ }),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  headers: z.record(z.string(), z.string()).optional(),
  /** Sent as JSON; ignored for GET. */
  body: z.unknown().optional(),
});

type Input = z.output<typeof RequestInput>;

export const httpConnector = defineConnector({
  type: 'pectrack:http',
  version: '1.0.0',
  configSchema: Config,
  templates: [
    {
      name: 'HTTP request (JSON)',
      id: 'pectrack.http.request',
      version: 1,
      description: 'Calls a URL with a JSON body; the answer is available as `status` and `body`',
      appliesTo: ['bpmn:ServiceTask', 'bpmn:SendTask'],
      groups: [
        { id: 'request', label: 'Request' },
        { id: 'response', label: 'Response' },
      ],
      properties: [
        {
          type: 'Hidden',
          value: 'pectrack:http',
          binding: { type: 'pectrack:connector', property: 'type' },
        },
        {
          label: 'URL',
          type: 'String',
          group: 'request',
          feel: 'optional',
          constraints: { notEmpty: true },
          binding: { type: 'pectrack:input', name: 'url' },
        },
        {
          label: 'Method',
          type: 'Dropdown',
          group: 'request',
          value: 'POST',
          choices: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => ({ name: m, value: m })),
          binding: { type: 'pectrack:input', name: 'method' },
        },
        {
          label: 'Body',
          description: 'A FEEL expression giving the JSON body',
          type: 'Text',
          group: 'request',
          feel: 'required',
          optional: true,
          binding: { type: 'pectrack:input', name: 'body' },
        },
        {
          label: 'Result variable',
          description: 'Receives the response body',
          type: 'String',
          group: 'response',
          optional: true,
          binding: { type: 'pectrack:output', source: 'body' },
        },
      ],
    },
  ],
  actions: {
    request: {
      description: 'One HTTP request with a JSON body and answer',
      inputSchema: RequestInput,
      async run(input, { config, signal, call }) {
        const response = await send(
          input,
          AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
          call?.idempotencyKey,
        );
        const body = await readBody(response);
        if (!response.ok)
          throw refused(input, response.status, body, response.headers.get('retry-after'));
        return { status: response.status, body };
      },
    },
  },
});

async function send(
  input: Input,
  signal: AbortSignal,
  idempotencyKey: string | undefined,
): Promise<Response> {
  const withBody = input.method !== 'GET' && input.body !== undefined;
  try {
    return await fetch(input.url, {
      method: input.method,
      headers: {
        accept: 'application/json',
        ...(withBody ? { 'content-type': 'application/json' } : {}),
        // Lets the receiver drop a repeat of a call whose answer we lost.
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        ...input.headers,
      },
      body: withBody ? JSON.stringify(input.body) : undefined,
      signal,
    });
  } catch (error) {
    throw new ConnectorError(
      'HTTP_UNREACHABLE',
      `${input.method} ${input.url} failed: ${(error as Error).message}`,
      {
        retryable: true,
        cause: error,
      },
    );
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Statuses below 500 that a repeat of the same request may get past (RFC 9110 §15.5.9, RFC 8470
 * §5.2, RFC 6585 §4): 408, the server gave up waiting for the request (a slow upload, a proxy's
 * idle timeout); 425, it would not risk a request that might be replayed; 429, too many requests.
 */
const TRANSIENT_REFUSALS = new Set([408, 425, 429]);

function refused(
  input: Input,
  status: number,
  body: unknown,
  retryAfter: string | null,
): ConnectorError {
  const later = status === 429 || status === 503 ? delayOf(retryAfter) : undefined;
  const excerpt = excerptOf(body);
  return new ConnectorError(
    'HTTP_STATUS',
    `${input.method} ${input.url} answered ${status}${excerpt ? `: ${excerpt}` : ''}`,
    {
      retryable: status >= 500 || TRANSIENT_REFUSALS.has(status),
      ...(later !== undefined && { retryAfterMs: later }),
      details: { status },
    },
  );
}

/** The start of an answer's body for a message; empty for no body (readBody's null). */
function excerptOf(body: unknown): string {
  if (body === null) return '';
  return (typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 200);
}

/** Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP date; undefined when absent or unreadable. */
function delayOf(retryAfter: string | null, now = Date.now()): number | undefined {
  const value = retryAfter?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
