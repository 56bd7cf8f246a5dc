/**
 * The far side of the crash test's connector: an HTTP server that is down (503) or up,
 * and counts, per idempotency key, the calls it answered with success.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Receiver {
  url: string;
  up: boolean;
  /** Successful calls per idempotency key. */
  delivered: Map<string, number>;
  refused: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver = { up: false, delivered: new Map<string, number>(), refused: 0 } as Receiver;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (!receiver.up) {
        receiver.refused++;
        response.writeHead(503).end();
        return;
      }
      const key = String(request.headers['idempotency-key']);
      receiver.delivered.set(key, (receiver.delivered.get(key) ?? 0) + 1);
      const input = JSON.parse(body) as { caseNumber: string };
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ receipt: `ok-${input.caseNumber}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/call`;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}
