/**
 * The far side of the http connector: a JSON service that answers 500 while `failing` is set,
 * 429 with `Retry-After: 0` to the next `throttled` requests, each status of `refusals` in turn,
 * without a body, to the requests after, and keeps every request it received.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JsonService {
  url: string;
  failing: boolean;
  throttled: number;
  refusals: number[];
  requests: { method: string; idempotencyKey: string | undefined; body: unknown }[];
  close(): Promise<void>;
}

export async function startJsonService(): Promise<JsonService> {
  const service = {
    failing: false,
    throttled: 0,
    refusals: [],
    requests: [],
  } as unknown as JsonService;
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const body = text ? (JSON.parse(text) as { caseNumber?: string }) : null;
      service.requests.push({
        method: request.method ?? '',
        idempotencyKey: request.headers['idempotency-key'] as string | undefined,
        body,
      });
      if (service.throttled > 0) {
        service.throttled -= 1;
        response
          .writeHead(429, { 'content-type': 'text/plain', 'retry-after': '0' })
          .end('slow down');
        return;
      }
      const refusal = service.refusals.shift();
      if (refusal !== undefined) {
        response.writeHead(refusal, { connection: 'close' }).end();
        return;
      }
      if (service.failing) {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('database down');
        return;
      }
      response
        .writeHead(201, { 'content-type': 'application/json' })
        .end(JSON.stringify({ receipt: `ok-${body?.caseNumber}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cases`;
  service.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return service;
}
