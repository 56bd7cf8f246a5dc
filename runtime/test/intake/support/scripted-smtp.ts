/**
 * A scripted SMTP submission server for the submission tests: every reply is chosen by the test
 * (per MAIL FROM, per RCPT TO, after the message data), and every session is recorded (the
 * commands seen, whether the password came in clear, the exact message bytes received).
 * No PIPELINING, no STARTTLS: the client sends one command at a time, in plain text.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { IntakeContext } from '../../../src/intake/index.js';
import { mailboxServices } from '../../../src/intake/mailboxes.js';

export interface Script {
  /** The reply to MAIL FROM; 250 by default. */
  mailFrom?: (address: string) => string;
  /** The reply to each RCPT TO; 250 by default. */
  rcpt?: (address: string) => string;
  /** After the message data: a reply, 'drop' (close the connection) or 'silent' (never answer). */
  afterData?: () => string | 'drop' | 'silent';
}

export interface Session {
  commands: string[];
  /** AUTH lines as they came over the wire. */
  auth: string[];
  mailFrom?: string;
  rcpt: string[];
  /** The message bytes, dot-unstuffed, without the terminating CRLF.CRLF. */
  data?: Buffer;
}

export interface ScriptedSmtp {
  host: string;
  port: number;
  script: Script;
  sessions: Session[];
  close(): Promise<void>;
}

export async function startScriptedSmtp(script: Script = {}): Promise<ScriptedSmtp> {
  const sessions: Session[] = [];
  const sockets = new Set<Socket>();
  const state: { script: Script } = { script };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const session: Session = { commands: [], auth: [], rcpt: [] };
    sessions.push(session);
    let buffer = Buffer.alloc(0);
    let inData = false;
    const reply = (line: string) => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    };
    reply('220 scripted.pec.test ESMTP');
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const body = buffer.subarray(0, end + 2);
          buffer = buffer.subarray(end + 5);
          inData = false;
          // Undo dot-stuffing: a line starting with '..' started with '.'.
          session.data = Buffer.from(
            body
              .toString('latin1')
              .replace(/\r\n\.\./g, '\r\n.')
              .replace(/^\.\./, '.'),
            'latin1',
          );
          const after = state.script.afterData?.() ?? '250 2.0.0 Ok: queued';
          if (after === 'drop') {
            socket.destroy();
            return;
          }
          if (after === 'silent') return;
          reply(after);
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.subarray(0, eol).toString('latin1');
        buffer = buffer.subarray(eol + 2);
        session.commands.push(line);
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'EHLO') {
          reply('250-scripted.pec.test');
          reply('250-8BITMIME');
          reply('250 AUTH PLAIN');
        } else if (verb === 'HELO') reply('250 scripted.pec.test');
        else if (verb === 'AUTH') {
          session.auth.push(line);
          reply('235 2.7.0 Authentication successful');
        } else if (verb === 'MAIL') {
          const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
          session.mailFrom = address;
          reply(state.script.mailFrom?.(address) ?? '250 2.1.0 Ok');
        } else if (verb === 'RCPT') {
          const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
          const answer = state.script.rcpt?.(address) ?? '250 2.1.5 Ok';
          if (answer.startsWith('2')) session.rcpt.push(address);
          reply(answer);
        } else if (verb === 'DATA') {
          inData = true;
          reply('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'RSET' || verb === 'NOOP') reply('250 2.0.0 Ok');
        else if (verb === 'QUIT') {
          reply('221 2.0.0 Bye');
          socket.end();
        } else reply('502 5.5.2 Command not recognized');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    get script() {
      return state.script;
    },
    set script(value: Script) {
      state.script = value;
    },
    sessions,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sessions that carried a whole message. */
export const withData = (sessions: Session[]) => sessions.filter((s) => s.data !== undefined);

/** The sending mailbox, submitting to the scripted server; its IMAP side is never read. */
export async function scriptedSender(
  ctx: IntakeContext,
  smtp: ScriptedSmtp,
  address: string,
): Promise<string> {
  const mailbox = await mailboxServices(ctx).create('default', {
    name: address,
    address,
    imap: { host: '127.0.0.1', port: 1, tls: false, allowPlaintext: true },
    username: address,
    password: 'segreto',
    enabled: false,
    smtp: { host: smtp.host, port: smtp.port, tls: false, allowPlaintext: true },
  });
  return mailbox.id;
}
