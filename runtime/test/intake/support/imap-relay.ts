/**
 * A TCP relay between a client and the test Dovecot that acts on the first command matching a
 * pattern: that command reaches the server only after `before` has run. It puts an event (new
 * mail) at an exact step of a session's conversation, without timing.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface RelayHook {
  /** Matched against what the client sends, read as latin1. */
  command: RegExp;
  before: () => Promise<void>;
}

export interface ImapRelay {
  host: string;
  port: number;
  /** True once the hooked command went through. */
  readonly fired: boolean;
  close(): Promise<void>;
}

export async function startImapRelay(
  target: { host: string; port: number },
  hook: RelayHook,
): Promise<ImapRelay> {
  let fired = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) sockets.add(s);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) s.on('error', end).on('close', end);
    upstream.on('data', (chunk) => client.write(chunk));
    // Chunks go upstream in order: one held back for the hook holds back the ones after it.
    let forwarded = Promise.resolve();
    client.on('data', (chunk) => {
      forwarded = forwarded
        .then(async () => {
          if (!fired && hook.command.test(chunk.toString('latin1'))) {
            await hook.before();
            fired = true;
          }
          upstream.write(chunk);
        })
        .catch(end);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port: address.port,
    get fired() {
      return fired;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
