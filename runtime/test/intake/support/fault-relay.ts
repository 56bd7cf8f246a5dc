/**
 * A TCP relay between the intake and the test Dovecot that can alter the conversation, for
 * server faults Dovecot does not produce by itself: a client command can be rewritten (or
 * swallowed) before it reaches the server, a server answer rewritten before the client reads it,
 * and a connection cut at an exact step.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface RelayConnection {
  /** 1 for the first connection the relay accepted, 2 for the next, ... */
  id: number;
  /** Cuts this connection, both sides, as a network failure or a server crash would. */
  cut(): void;
}

export interface FaultRelayOptions {
  /** Sees each chunk the client sends (latin1); returns a replacement, or nothing to forward it as is. */
  onClient?: (text: string, conn: RelayConnection) => string | void;
  /** Sees each chunk the server sends (latin1); returns what the client gets. */
  onServer?: (text: string, conn: RelayConnection) => string;
}

export interface FaultRelay {
  host: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startFaultRelay(
  target: { host: string; port: number },
  options: FaultRelayOptions = {},
): Promise<FaultRelay> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) sockets.add(s);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    const conn: RelayConnection = { id: ++connections, cut };
    for (const s of [client, upstream]) s.on('error', cut).on('close', cut);
    upstream.on('data', (chunk: Buffer) => {
      const text = options.onServer ? options.onServer(chunk.toString('latin1'), conn) : null;
      if (!client.destroyed) client.write(text === null ? chunk : Buffer.from(text, 'latin1'));
    });
    client.on('data', (chunk: Buffer) => {
      const text = options.onClient?.(chunk.toString('latin1'), conn);
      if (!upstream.destroyed)
        upstream.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port: address.port,
    get connections() {
      return connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The UIDs of an IMAP UID set such as `1:3,7`. */
export function uidsOf(set: string): number[] {
  const uids: number[] = [];
  for (const part of set.split(',')) {
    const [from, to] = part.split(':').map(Number);
    for (let uid = from!; uid <= (to ?? from!); uid++) uids.push(uid);
  }
  return uids;
}

/** Matches the intake's content FETCH: `<tag> UID FETCH <set> (UID BODY.PEEK[] MODSEQ)`. */
export const CONTENT_FETCH = /^(\S+) UID FETCH (\S+) \(UID BODY\.PEEK\[\] MODSEQ\)\r\n$/;
