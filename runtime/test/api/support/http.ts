/** A small fetch wrapper for the suites: JSON in, parsed JSON (or text) out. */

/** Parsed answers are explored freely by the assertions, which check their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Reply<T = Json> {
  status: number;
  headers: Headers;
  contentType: string;
  body: T;
}

export interface RequestOptions {
  method?: string;
  auth?: string;
  json?: unknown;
  body?: RequestInit['body'];
  headers?: Record<string, string>;
}

export async function call<T = Json>(
  base: string,
  path: string,
  options: RequestOptions = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.authorization = options.auth;
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(base + path, {
    method: options.method ?? (body ? 'POST' : 'GET'),
    headers,
    body,
  });
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  const parsed = contentType.includes('json') && text ? (JSON.parse(text) as T) : (text as T);
  return { status: response.status, headers: response.headers, contentType, body: parsed };
}
