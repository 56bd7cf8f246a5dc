/**
 * Runtime configuration from the environment. Every variable is validated up front so a
 * typo fails the start with a message that names the variable, not a crash later.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';

export type DatabaseConfig = { kind: 'sqlite'; file: string } | { kind: 'postgresql'; url: string };

/** Connector packages to load besides the built-in ones, and the file holding their config. */
export interface ConnectorSettings {
  packages: string[];
  configFile: string | undefined;
}

export interface RuntimeConfig {
  dataDir: string;
  database: DatabaseConfig;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  tenant: string;
  /** Absent: only the built-in connectors, with their default config. */
  connectors?: ConnectorSettings;
  /** PEC intake: mailbox password key, signature trust anchors, blob store. */
  intake?: IntakeSettings;
  /** The largest file `POST /api/v1/files` takes (PECTRACK_UPLOAD_MAX_MB); absent: 100 MB. */
  uploadMaxBytes?: number;
}

export interface IntakeSettings {
  /** PECTRACK_SECRET_KEY; absent: a key file kept in the data directory (single-node installs). */
  secretKey: string | undefined;
  /** PEM bundle of the certificates provider signatures must chain to (AgID CA1 in production). */
  trustAnchorsFile: string | undefined;
  /**
   * PECTRACK_MAIL_CA: PEM bundle of the authorities a mail server's certificate may chain to
   * besides the system's (an internal relay's own CA); absent: the system's only.
   */
  mailCaFile?: string;
  blobDir: string;
  /** Worker threads that parse incoming messages; 0 parses on the main thread. */
  parseWorkers: number;
  /**
   * How new blobs are made durable before the commit that names them: `filesystem` syncs the
   * blob store's whole file system once per batch (syncfs, Linux), `file` fsyncs each new file.
   */
  blobSync: 'filesystem' | 'file';
  /**
   * How long a receipt no process waits for yet is kept for the first that does (a process
   * still finishing its send task, or doing a task before it waits): PECTRACK_RECEIPT_TTL_HOURS.
   */
  receiptTimeToLiveMs: number;
}

/** A week: past the provider's 24-hour delivery term, with room for the tasks in between. */
export const DEFAULT_RECEIPT_TTL_HOURS = 168;
export const DEFAULT_RECEIPT_TTL_MS = DEFAULT_RECEIPT_TTL_HOURS * 3_600_000;

/** A configuration built in code may leave intake out: the defaults loadConfig would give. */
export function intakeSettingsOf(config: RuntimeConfig): IntakeSettings {
  return (
    config.intake ?? {
      secretKey: undefined,
      trustAnchorsFile: undefined,
      blobDir: resolve(config.dataDir, 'blobs'),
      parseWorkers: defaultParseWorkers(),
      blobSync: 'filesystem',
      receiptTimeToLiveMs: DEFAULT_RECEIPT_TTL_MS,
    }
  );
}

/** One core stays with the main thread (IMAP, blob writes, commits); the others parse. */
export function defaultParseWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const EnvSchema = z.object({
  PECTRACK_DATA_DIR: z.string().min(1).default('./data'),
  PECTRACK_DATABASE_URL: z
    .string()
    .min(1)
    .refine(
      (url) => (/^postgres(ql)?:\/\//.test(url) && URL.canParse(url)) || url.startsWith('sqlite:'),
      'must be a postgres:// URL or sqlite:<file>',
    )
    .optional(),
  PECTRACK_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PECTRACK_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  PECTRACK_TENANT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "-" or "_"')
    .default('default'),
  PECTRACK_CONNECTORS: z
    .string()
    .regex(/^[@a-z0-9._/,\s-]*$/, 'must be a comma list of npm package names')
    .default(''),
  PECTRACK_CONNECTORS_CONFIG: z.string().min(1).optional(),
  PECTRACK_SECRET_KEY: z
    .string()
    .refine(
      (key) => /^[0-9a-fA-F]{64}$/.test(key) || Buffer.from(key, 'base64').length === 32,
      'must be 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)',
    )
    .optional(),
  PECTRACK_TRUST_ANCHORS: z.string().min(1).optional(),
  PECTRACK_MAIL_CA: z.string().min(1).optional(),
  PECTRACK_PARSE_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  PECTRACK_BLOB_SYNC: z.enum(['filesystem', 'file']).default('filesystem'),
  // At least an hour: a receipt is kept in the commit that applies it and delivered after it.
  PECTRACK_RECEIPT_TTL_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 90)
    .default(DEFAULT_RECEIPT_TTL_HOURS),
  // PEC providers take messages of 30 to 100 MB, attachments included.
  PECTRACK_UPLOAD_MAX_MB: z.coerce.number().int().min(1).max(1024).optional(),
});

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), `is invalid: ${issue.message}`);
  }
  const vars = parsed.data;
  const dataDir = resolve(vars.PECTRACK_DATA_DIR);
  return {
    dataDir,
    database: databaseFrom(vars.PECTRACK_DATABASE_URL, dataDir),
    port: vars.PECTRACK_PORT,
    logLevel: vars.PECTRACK_LOG_LEVEL,
    tenant: vars.PECTRACK_TENANT,
    connectors: {
      packages: vars.PECTRACK_CONNECTORS.split(',')
        .map((name) => name.trim())
        .filter(Boolean),
      configFile: vars.PECTRACK_CONNECTORS_CONFIG && resolve(vars.PECTRACK_CONNECTORS_CONFIG),
    },
    intake: {
      secretKey: vars.PECTRACK_SECRET_KEY,
      trustAnchorsFile: vars.PECTRACK_TRUST_ANCHORS && resolve(vars.PECTRACK_TRUST_ANCHORS),
      ...(vars.PECTRACK_MAIL_CA && { mailCaFile: resolve(vars.PECTRACK_MAIL_CA) }),
      blobDir: resolve(dataDir, 'blobs'),
      parseWorkers: vars.PECTRACK_PARSE_WORKERS ?? defaultParseWorkers(),
      blobSync: vars.PECTRACK_BLOB_SYNC,
      receiptTimeToLiveMs: Math.round(vars.PECTRACK_RECEIPT_TTL_HOURS * 3_600_000),
    },
    ...(vars.PECTRACK_UPLOAD_MAX_MB && { uploadMaxBytes: vars.PECTRACK_UPLOAD_MAX_MB * 1048576 }),
  };
}

function databaseFrom(url: string | undefined, dataDir: string): DatabaseConfig {
  if (url && /^postgres(ql)?:\/\//.test(url)) return { kind: 'postgresql', url };
  if (url) return { kind: 'sqlite', file: resolve(url.replace(/^sqlite:(\/\/)?/, '')) };
  return { kind: 'sqlite', file: resolve(dataDir, 'pectrack.sqlite') };
}
