/**
 * Definitions are immutable once deployed, so their compiled form is cached by id for
 * the life of the process; only "latest version of key" can change, on deploy.
 */
import { compile, type ExecutableProcess } from '../engine/index.js';
import { NotFoundError } from '../errors.js';
import { knexOf, type Orm } from '../store/orm.js';
import type { DefinitionInfo } from './types.js';

/** Another node's deploy becomes visible to "latest by key" within this long. */
const LATEST_TTL_MS = 1_000;

interface DefinitionRow {
  id: string;
  tenant_id: string;
  key: string;
  version: number;
  name: string | null;
  sha256: string;
  deployment_id: string;
  deployed_by: string | null;
  deployed_at: Date | string | number;
}

export interface LoadedDefinition {
  info: DefinitionInfo;
  tenantId: string;
  process: ExecutableProcess;
}

export class DefinitionCache {
  private readonly byId = new Map<string, Promise<LoadedDefinition | null>>();
  private readonly latest = new Map<string, { id: string | null; at: number }>();

  constructor(private readonly orm: Orm) {}

  /** The definition with its compiled process, or NotFoundError (also for another tenant's). */
  async get(tenantId: string, id: string): Promise<LoadedDefinition> {
    let loading = this.byId.get(id);
    if (!loading) {
      loading = this.load(id);
      this.byId.set(id, loading);
      loading.then(
        (found) => found ?? this.byId.delete(id),
        () => this.byId.delete(id),
      );
    }
    const found = await loading;
    if (!found || found.tenantId !== tenantId) throw new NotFoundError('ProcessDefinition', id);
    return found;
  }

  async latestByKey(tenantId: string, key: string): Promise<LoadedDefinition> {
    const cacheKey = `${tenantId}\u0000${key}`;
    const cached = this.latest.get(cacheKey);
    let id = cached && Date.now() - cached.at < LATEST_TTL_MS ? cached.id : undefined;
    if (id === undefined) {
      const row = (await this.knex()
        .select('id')
        .from('process_definition')
        .where({ tenant_id: tenantId, key })
        .orderBy('version', 'desc')
        .first()) as { id: string } | undefined;
      id = row?.id ?? null;
      this.latest.set(cacheKey, { id, at: Date.now() });
    }
    if (!id) throw new NotFoundError('ProcessDefinition with key', key);
    return this.get(tenantId, id);
  }

  /** A deploy on this node makes its versions the latest at once. */
  forgetLatest(tenantId: string, key: string): void {
    this.latest.delete(`${tenantId}\u0000${key}`);
  }

  private async load(id: string): Promise<LoadedDefinition | null> {
    const row = (await this.knex().select('*').from('process_definition').where({ id }).first()) as
      (DefinitionRow & { xml: string }) | undefined;
    if (!row) return null;
    // Checks added since it was deployed must not strand the instances waiting in it.
    const compiled = await compile(row.xml, { stored: true });
    const process = compiled.ok ? compiled.processes.find((p) => p.id === row.key) : undefined;
    if (!process) throw new Error(`stored definition ${id} no longer compiles`);
    return { info: definitionInfo(row), tenantId: row.tenant_id, process };
  }

  private knex() {
    return knexOf(this.orm);
  }
}

export function definitionInfo(row: DefinitionRow): DefinitionInfo {
  return {
    id: row.id,
    key: row.key,
    version: row.version,
    name: row.name,
    sha256: row.sha256,
    deploymentId: row.deployment_id,
    deployedBy: row.deployed_by,
    deployedAt: toDate(row.deployed_at).toISOString(),
  };
}

/** SQLite keeps the ORM's dates as epoch milliseconds, the pg client as text. */
export function toDate(value: Date | string | number): Date {
  return value instanceof Date
    ? value
    : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
}
