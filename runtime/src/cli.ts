/**
 * `pectrack`: the command line of the runtime. Every command reads its
 * configuration from the environment (config.ts) and prints errors as one
 * line naming the problem, never a stack trace.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import { createLogger } from './api/http/logging.js';
import {
  addUser,
  createApiToken,
  listApiTokens,
  revokeApiToken,
  setPassword,
  userExists,
} from './auth/users.js';
import { splitLogin } from './auth/accounts.js';
import { ConfigError, intakeSettingsOf, loadConfig, type RuntimeConfig } from './config.js';
import { PecTrackError } from './errors.js';
import { SIGNATURE_STATUSES } from './store/entities/message.js';
import type { Actor } from './services/types.js';
import { referencedBlobs } from './store/blob-references.js';
import { FileBlobStore } from './store/blobs.js';
import { migrate, openOrm, type Orm } from './store/orm.js';
import { UserSchema } from './store/entities/index.js';

const DEMO = { username: 'demo', password: 'demo' };
const SAMPLE = new URL('../samples/simple-approval.bpmn', import.meta.url);

function prepareDataDir(config: RuntimeConfig): void {
  mkdirSync(config.dataDir, { recursive: true });
  if (config.database.kind === 'sqlite')
    mkdirSync(dirname(config.database.file), { recursive: true });
}

/** Opens the database, brings the schema up to date, runs `work`, closes. */
async function withOrm<T>(config: RuntimeConfig, work: (orm: Orm) => Promise<T>): Promise<T> {
  prepareDataDir(config);
  const orm = await openOrm(config.database);
  try {
    await migrate(orm);
    return await work(orm);
  } finally {
    await orm.close();
  }
}

function minutes(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new InvalidArgumentError('a number of minutes (0 or more) is expected');
  return parsed;
}

/** An empty filter would select every message (a script's unset variable), so it is refused. */
function nonEmpty(value: string): string {
  if (value.trim() === '')
    throw new InvalidArgumentError(
      'an empty value selects nothing: leave the option out to select all',
    );
  return value;
}

function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean),
  ];
}

async function serve(config: RuntimeConfig, logger: Logger) {
  prepareDataDir(config);
  // Loaded on demand: the administrative commands should not pay for the engine, scheduler and HTTP stack.
  const [{ createRuntime }, { createApp }, connectors] = await Promise.all([
    import('./runtime.js'),
    import('./api/app.js'),
    import('./connectors/index.js'),
  ]);
  const runtime = await createRuntime(config, { log: logger.child({ component: 'intake' }) });
  let installed: Awaited<ReturnType<typeof connectors.discoverConnectors>>;
  try {
    // After the runtime: the PEC connector sends through the runtime's intake.
    installed = await connectors.discoverConnectors(
      config.connectors ?? { packages: [], configFile: undefined },
      connectors.builtinConnectors({ intake: runtime.intake }),
    );
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  for (const [type, handler] of Object.entries(connectors.registryEntries(installed, logger)))
    runtime.connectors.register(type, handler);
  await runtime.start();
  const app = createApp({
    services: runtime.services,
    orm: runtime.orm,
    defaultTenant: config.tenant,
    logger,
    connectors: connectors.describeConnectors(installed),
    intake: runtime.intake,
    ...(config.uploadMaxBytes && { limits: { uploadBytes: config.uploadMaxBytes } }),
  });
  const server = await app.listen(config.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, database: config.database.kind }, 'pectrack listening');
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close();
    await runtime.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  return { port, runtime };
}

async function demoActor(orm: Orm, tenantId: string): Promise<Actor> {
  const user = await orm.em
    .fork()
    .findOneOrFail(UserSchema, { tenant: tenantId, username: DEMO.username }, { filters: false });
  return { tenantId, userId: user.id, username: user.username, roles: user.roles };
}

function describeDatabase(config: RuntimeConfig): string {
  return config.database.kind === 'sqlite' ? `SQLite at ${config.database.file}` : 'PostgreSQL';
}

function printDemoInstructions(config: RuntimeConfig, port: number): void {
  const base = `http://localhost:${port}`;
  const auth = `-u ${DEMO.username}:${DEMO.password}`;
  console.log(`
PECtrack is running on ${base}  (${describeDatabase(config)}; stop with Ctrl+C)

Log in with HTTP Basic as ${DEMO.username} / ${DEMO.password} (role admin), or create an API token:
  npx pectrack token create --username ${DEMO.username} --name my-laptop

API description (OpenAPI 3.1): ${base}/api/v1/openapi.json
Health: ${base}/healthz   Readiness: ${base}/readyz   Metrics: ${base}/metrics

Try the sample workflow "simple-approval" (already deployed):
  curl ${auth} ${base}/api/v1/definitions
  curl ${auth} -H 'content-type: application/json' \\
       -d '{"definitionKey":"simple-approval","businessKey":"REQ-1","variables":{"requester":"Mario Rossi"}}' \\
       ${base}/api/v1/instances
  curl ${auth} '${base}/api/v1/tasks?status=open'
  curl ${auth} -H 'content-type: application/json' -d '{"variables":{"approved":true}}' \\
       ${base}/api/v1/tasks/<task id>/complete
  curl ${auth} ${base}/api/v1/instances/<instance id>

Deploy your own diagram:
  curl ${auth} -H 'content-type: application/xml' --data-binary @my-process.bpmn '${base}/api/v1/definitions?name=my-process'

Camunda Modeler: deploy to the endpoint ${base}/engine-rest with Basic authentication (${DEMO.username} / ${DEMO.password}).
`);
}

async function demo(config: RuntimeConfig, logger: Logger): Promise<void> {
  await withOrm(config, async (orm) => {
    if (!(await userExists(orm, config.tenant, DEMO.username))) {
      await addUser(orm, { tenantId: config.tenant, ...DEMO, roles: ['admin'] });
    }
  });
  const { port, runtime } = await serve(config, logger);
  const actor = await demoActor(runtime.orm, config.tenant);
  await runtime.services.definitions.deploy(actor, {
    name: 'simple-approval',
    source: 'pectrack demo',
    files: [{ filename: 'simple-approval.bpmn', xml: readFileSync(SAMPLE, 'utf8') }],
    duplicateFiltering: true,
  });
  printDemoInstructions(config, port);
}

interface ReparseOptions {
  kind?: string;
  signatureStatus?: (typeof SIGNATURE_STATUSES)[number];
  mailbox?: string;
}

/** Reads the selected messages again a page at a time, printing what changed and the totals. */
async function reparseMessages(config: RuntimeConfig, opts: ReparseOptions): Promise<void> {
  prepareDataDir(config);
  const { createRuntime } = await import('./runtime.js');
  const runtime = await createRuntime(config);
  const totals = { examined: 0, changed: 0, casesOpened: 0, receiptsApplied: 0 };
  let failed = 0;
  try {
    let after: string | undefined;
    do {
      const page = await runtime.intake.reparse.many(config.tenant, {
        ...(opts.kind && { kind: opts.kind }),
        ...(opts.signatureStatus && { signatureStatus: opts.signatureStatus }),
        ...(opts.mailbox && { mailboxId: opts.mailbox }),
        ...(after && { after }),
      });
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += page[key];
      for (const r of page.results.filter((result) => result.changed))
        console.log(
          `${r.id}: ${r.before.kind} -> ${r.after.kind}, signature ${r.before.signatureStatus} -> ${r.after.signatureStatus}${r.caseOpened ? ', case opened' : ''}${r.receiptApplied ? ', receipt applied' : ''}${r.duplicateOf ? `, copy of ${r.duplicateOf}` : ''}`,
        );
      for (const failure of page.failed) console.error(`pectrack: ${failure.reason}`);
      failed += page.failed.length;
      after = page.next ?? undefined;
    } while (after);
  } finally {
    await runtime.stop();
  }
  console.log(
    `read again ${totals.examined} message(s): ${totals.changed} changed, ${totals.casesOpened} case(s) opened, ${totals.receiptsApplied} receipt(s) applied${failed > 0 ? `, ${failed} could not be read (said above)` : ''}`,
  );
  // A script running this after an upgrade learns that some messages were not read.
  if (failed > 0) process.exitCode = 1;
}

export function buildProgram(): Command {
  const program = new Command('pectrack')
    .description('PECtrack: certified e-mail (PEC) case tracking with BPMN workflows')
    .showHelpAfterError();

  program
    .command('serve')
    .description(
      'run migrations, start the scheduler and the HTTP API (port PECTRACK_PORT, default 3000)',
    )
    .action(async () => {
      const config = loadConfig();
      await serve(config, createLogger(config.logLevel));
    });

  program
    .command('migrate')
    .description('bring the database schema up to date')
    .action(async () => {
      const config = loadConfig();
      prepareDataDir(config);
      const orm = await openOrm(config.database);
      try {
        const applied = await migrate(orm);
        console.log(
          applied.length ? `applied ${applied.join(', ')}` : 'database schema is up to date',
        );
      } finally {
        await orm.close();
      }
    });

  const user = program.command('user').description('manage users');
  user
    .command('add')
    .description('add a user with a password and one or more roles')
    .requiredOption('--username <username>', 'login name')
    .requiredOption('--password <password>', 'password (stored as a salted scrypt hash)')
    .addOption(
      new Option('--role <role>', 'admin, analyst, clerk or supervisor (repeatable)')
        .argParser(collect)
        .default([]),
    )
    .option('--tenant <tenant>', 'tenant id (default PECTRACK_TENANT)')
    .action(
      async (opts: { username: string; password: string; role: string[]; tenant?: string }) => {
        const config = loadConfig();
        const tenantId = opts.tenant ?? config.tenant;
        const created = await withOrm(config, (orm) =>
          addUser(orm, {
            tenantId,
            username: opts.username,
            password: opts.password,
            roles: opts.role,
          }),
        );
        console.log(
          `user ${created.tenantId}/${created.username} added with roles ${opts.role.join(', ')}`,
        );
      },
    );

  user
    .command('passwd')
    .description("set a user's password")
    .requiredOption('--username <username>', 'login (tenant/username for another tenant)')
    .requiredOption('--password <password>', 'the new password')
    .action(async (opts: { username: string; password: string }) => {
      const config = loadConfig();
      const { tenantId, username } = splitLogin(opts.username, config.tenant);
      await withOrm(config, (orm) =>
        setPassword(orm, { tenantId, username, password: opts.password }),
      );
      console.log(`password of ${tenantId}/${username} changed`);
    });

  const token = program.command('token').description('manage API tokens');
  token
    .command('create')
    .description(
      'create an API token for a user; the token is printed once and only its hash is kept',
    )
    .requiredOption('--username <username>', 'owner (tenant/username for another tenant)')
    .requiredOption('--name <name>', 'what the token is for')
    .action(async (opts: { username: string; name: string }) => {
      const config = loadConfig();
      const { tenantId, username } = splitLogin(opts.username, config.tenant);
      const created = await withOrm(config, (orm) =>
        createApiToken(orm, { tenantId, username, name: opts.name }),
      );
      console.error(
        `token ${created.id} created for ${tenantId}/${username}; it is shown only now:`,
      );
      console.log(created.token);
    });
  token
    .command('list')
    .description("list a user's API tokens (ids and names; the secrets are not stored)")
    .requiredOption('--username <username>', 'owner (tenant/username for another tenant)')
    .action(async (opts: { username: string }) => {
      const config = loadConfig();
      const { tenantId, username } = splitLogin(opts.username, config.tenant);
      const tokens = await withOrm(config, (orm) => listApiTokens(orm, { tenantId, username }));
      for (const t of tokens) {
        console.log(
          [t.id, t.name, t.createdAt, t.revokedAt ? `revoked ${t.revokedAt}` : 'active'].join('\t'),
        );
      }
    });
  token
    .command('revoke')
    .description('revoke an API token by its id')
    .requiredOption('--id <id>', 'token id printed by token create')
    .action(async (opts: { id: string }) => {
      await withOrm(loadConfig(), (orm) => revokeApiToken(orm, opts.id));
      console.log(`token ${opts.id} revoked`);
    });

  const blobs = program.command('blobs').description('maintain the blob store of raw messages');
  blobs
    .command('sweep')
    .description(
      'remove the temporary files an interrupted write left in the blob store; with --unreferenced, also the blobs no message or uploaded file refers to any more (a deleted upload)',
    )
    .addOption(
      new Option('--older-than <minutes>', 'only files not written to for this long')
        .argParser(minutes)
        .default(60),
    )
    .option('--unreferenced', 'also remove the blobs nothing refers to any more')
    .action(async (opts: { olderThan: number; unreferenced?: boolean }) => {
      const config = loadConfig();
      const dir = intakeSettingsOf(config).blobDir;
      const store = new FileBlobStore(dir);
      const age = `older than ${opts.olderThan} minute(s) from ${dir}`;
      const swept = await store.sweepTemporaryFiles(opts.olderThan * 60_000);
      console.log(`removed ${swept.removed} temporary file(s), ${swept.bytes} bytes, ${age}`);
      if (!opts.unreferenced) return;
      const unreferenced = await withOrm(config, (orm) =>
        store.sweepUnreferenced(opts.olderThan * 60_000, (names) => referencedBlobs(orm, names)),
      );
      console.log(
        `removed ${unreferenced.removed} unreferenced blob(s), ${unreferenced.bytes} bytes, ${age}`,
      );
    });

  const messages = program.command('messages').description('maintain the PEC messages received');
  messages
    .command('reparse')
    .description(
      'read received messages again from their stored bytes (after an upgrade of the parser, or trust anchors configured since): each takes the new reading; one now read as certified opens its case, a receipt moves the message it refers to',
    )
    .option('--kind <kind>', 'only messages stored as this kind (e.g. unparseable)', nonEmpty)
    .addOption(
      new Option('--signature-status <status>', 'only messages with this signature status').choices(
        SIGNATURE_STATUSES,
      ),
    )
    .option('--mailbox <id>', 'only the messages of this mailbox', nonEmpty)
    .action(async (opts: ReparseOptions) => {
      await reparseMessages(loadConfig(), opts);
    });

  program
    .command('demo')
    .description(
      'what `npm start` runs: SQLite under ./data, user demo/demo, the sample workflow, the server',
    )
    .action(async () => {
      const config = loadConfig();
      await demo(config, createLogger(config.logLevel));
    });

  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // Ours name the problem; anything else (a disk error, a bug) still gets one line, its kind first.
    const line =
      err instanceof PecTrackError || err instanceof ConfigError
        ? err.message
        : err instanceof Error
          ? `${err.name}: ${err.message}`
          : String(err);
    console.error(`pectrack: ${line}`);
    process.exitCode = 1;
  }
}
