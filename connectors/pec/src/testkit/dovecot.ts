/**
 * A private Dovecot IMAP server per test run: its own directory, config, users file and free
 * port, nothing from the system configuration. The recipe is the one verified in
 * docs/test-services.md (Dovecot 2.3, started as root, maildir under the run directory).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const DOVECOT_BINARY_CANDIDATES = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'];

export interface DovecotUser {
  user: string;
  password: string;
}

export interface DovecotServer {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** Adds (or replaces) a login; Dovecot rereads the passwd-file when it changes. */
  addUser(user: DovecotUser): Promise<void>;
  /** Stops the server and waits until the port refuses connections. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same mail. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /**
   * Forgets the UIDs of one folder so Dovecot assigns a new UIDVALIDITY and renumbers every
   * message, as a provider restoring a mailbox from backup does. Restarts the server.
   */
  resetUidValidity(user: string, folder?: string): Promise<number>;
  /**
   * Drops messages straight into a folder's maildir, as the provider's delivery agent does:
   * thousands per second where IMAP APPEND manages about a hundred. Dovecot assigns their
   * UIDs, in order, when a client next looks.
   */
  /**
   * Drops messages into a folder as a delivery agent would. `receivedAt` dates them (the
   * maildir file's mtime, which Dovecot gives as INTERNALDATE); default now.
   */
  deliver(
    user: string,
    messages: Buffer[],
    folder?: string,
    options?: { receivedAt?: Date },
  ): Promise<void>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

/** The Dovecot binary on this machine, or null when it is not installed. */
export function findDovecot(): string | null {
  return DOVECOT_BINARY_CANDIDATES.find((path) => existsSync(path)) ?? null;
}

/** Whether this process may start Dovecot the verified way (installed, and running as root). */
export function dovecotUnavailableReason(): string | null {
  if (!findDovecot())
    return `dovecot not found (looked in ${DOVECOT_BINARY_CANDIDATES.join(', ')})`;
  if (userInfo().uid !== 0) return 'dovecot test instances must be started as root';
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** PEM key and certificate Dovecot offers STARTTLS with. */
export interface DovecotTls {
  key: string;
  cert: string;
}

function configText(dir: string, port: number, tls: boolean): string {
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
${tls ? sslConfig(dir) : 'ssl = no'}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:${dir}/mail/%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 0
mail_max_userip_connections = 100
# A throw-away test server: durability across power loss is worth nothing here, speed is.
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    port = ${port}
  }${tls ? IMAPS_OFF : ''}
  chroot =
}
service anvil {
  chroot =
}
`;
}

// STARTTLS on the plain port only (IMAPS_OFF). The `<` includes are read by the config
// process, which runs as root: the key can stay root-only.
function sslConfig(dir: string): string {
  return `ssl = yes
ssl_cert = <${dir}/tls/cert.pem
ssl_key = <${dir}/tls/key.pem`;
}

// With ssl = yes Dovecot would also listen on its built-in imaps port, 993: a second server
// (another test run) would then fail to start. Port 0 turns that listener off.
const IMAPS_OFF = `
  inet_listener imaps {
    port = 0
  }`;

/** Writes the key root-only (0600) and the certificate world-readable, in the server's dir. */
async function writeTls(dir: string, tls: DovecotTls): Promise<void> {
  const tlsDir = join(dir, 'tls');
  await mkdir(tlsDir, { mode: 0o700 });
  await writeFile(join(tlsDir, 'key.pem'), tls.key, { mode: 0o600 });
  await writeFile(join(tlsDir, 'cert.pem'), tls.cert, { mode: 0o644 });
}

async function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, open: boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await portAccepts(port)) === open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `dovecot on port ${port} did not ${open ? 'start' : 'stop'} within ${timeoutMs} ms`,
  );
}

/**
 * Ends the processes still serving connections on the port: their sockets are found in
 * /proc/net/tcp (local port, state ESTABLISHED) and matched to the processes holding them.
 */
async function killSessions(port: number): Promise<void> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'latin1').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const localPort = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
      if (localPort === port && fields[3] === '01' && fields[9]) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return;
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
        break;
      }
    }
  }
}

/** Runs the daemonising master with detached stdio: its children would hold a pipe open forever. */
async function launch(binary: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${binary} exited with ${code}`)),
    );
  });
}

function folderDir(dir: string, user: string, folder: string): string {
  const root = join(dir, 'mail', user);
  return folder.toUpperCase() === 'INBOX' ? root : join(root, `.${folder.replace(/\//g, '.')}`);
}

async function nobodyIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['nobody']);
  const uid = Number(/uid=(\d+)/.exec(stdout)?.[1]);
  const gid = Number(/gid=(\d+)/.exec(stdout)?.[1]);
  return { uid, gid };
}

export async function startDovecot(
  options: { users?: DovecotUser[]; tls?: DovecotTls } = {},
): Promise<DovecotServer> {
  const reason = dovecotUnavailableReason();
  if (reason) throw new Error(reason);
  const binary = findDovecot() as string;
  const dir = await mkdtemp(join(tmpdir(), 'pectrack-dovecot-'));
  const port = await freePort();
  const users = new Map<string, string>();
  for (const u of options.users ?? []) users.set(u.user, u.password);

  // The auth process runs as `dovecot` and mail access as `nobody`: they need these modes.
  await chmod(dir, 0o755);
  const mailDir = join(dir, 'mail');
  await mkdir(mailDir);
  const nobody = await nobodyIds();
  await chown(mailDir, nobody.uid, nobody.gid);
  const configPath = join(dir, 'dovecot.conf');
  if (options.tls) await writeTls(dir, options.tls);
  await writeFile(configPath, configText(dir, port, Boolean(options.tls)));

  // Dovecot looks at the passwd-file at most once a second and rereads it when its mtime (whole
  // seconds) changed: each write moves the mtime on, and addUser returns only once the second
  // of the write is over, so the next login is sure to see the new user.
  let usersMtime = 0;
  const writeUsers = async () => {
    const lines = [...users].map(([user, password]) => `${user}:{PLAIN}${password}\n`).join('');
    const file = join(dir, 'users');
    await writeFile(file, lines, { mode: 0o644 });
    await chmod(file, 0o644);
    usersMtime = Math.max(usersMtime + 1, Math.ceil(Date.now() / 1000));
    await utimes(file, usersMtime, usersMtime);
  };
  await writeUsers();

  let running = false;
  let deliveries = 0;
  const start = async () => {
    await launch(binary, ['-c', configPath]);
    await waitForPort(port, true);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await launch(binary, ['-c', configPath, 'stop']).catch(() => undefined);
    await waitForPort(port, false);
    // The master is gone but an imap process may keep its client for seconds: a restart must
    // drop every connection, as a real server restart does.
    await killSessions(port);
    running = false;
  };

  await start();

  const server: DovecotServer = {
    host: '127.0.0.1',
    port,
    dir,
    async addUser(user) {
      users.set(user.user, user.password);
      await writeUsers();
      if (running) await new Promise((resolve) => setTimeout(resolve, 1050 - (Date.now() % 1000)));
    },
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
    async resetUidValidity(user, folder = 'INBOX') {
      await stop();
      const target = folderDir(dir, user, folder);
      const uidlistPath = join(target, 'dovecot-uidlist');
      const previous = existsSync(uidlistPath)
        ? Number(
            / V(\d+)/.exec((await readFile(uidlistPath, 'latin1')).split('\n')[0] ?? '')?.[1] ?? 0,
          )
        : 0;
      for (const name of await readdir(target)) {
        if (
          name === 'dovecot-uidlist' ||
          name.startsWith('dovecot.index') ||
          name.startsWith('dovecot.list.index')
        ) {
          await rm(join(target, name), { force: true });
        }
      }
      // A fresh uidlist with a UIDVALIDITY that surely differs (Dovecot would take the clock,
      // which may equal the old value when both happen in the same second).
      const uidValidity = Math.max(previous + 1, Math.floor(Date.now() / 1000));
      await writeFile(uidlistPath, `3 V${uidValidity} N1\n`);
      await chown(uidlistPath, nobody.uid, nobody.gid);
      await start();
      return uidValidity;
    },
    async deliver(user, messages, folder = 'INBOX', options = {}) {
      const target = folderDir(dir, user, folder);
      for (const sub of ['', 'cur', 'new', 'tmp']) {
        await mkdir(join(target, sub), { recursive: true });
        await chown(join(target, sub), nobody.uid, nobody.gid);
      }
      await chown(join(dir, 'mail', user), nobody.uid, nobody.gid);
      const stamp = Math.floor(Date.now() / 1000);
      for (const message of messages) {
        // Names sort in delivery order, so UIDs follow the order of `messages`.
        const name = `${stamp}.P${process.pid}Q${String(deliveries++).padStart(9, '0')}.pectrack,S=${message.length}`;
        // The maildir way: written whole under tmp/, then renamed into new/, so Dovecot never
        // lists a message whose bytes are still being written.
        const staging = join(target, 'tmp', name);
        await writeFile(staging, message);
        if (options.receivedAt) await utimes(staging, options.receivedAt, options.receivedAt);
        await chown(staging, nobody.uid, nobody.gid);
        await rename(staging, join(target, 'new', name));
      }
    },
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}
