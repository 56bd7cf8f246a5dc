/** Deploying and reading process definitions (versioned per key, never changed once stored). */
import { createHash, randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import { compile, type ExecutableProcess } from '../engine/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import {
  DeploymentSchema,
  ProcessDefinitionSchema,
  TenantSchema,
  type ProcessDefinition,
} from '../store/entities/index.js';
import { tenantEm, type ServiceContext } from './context.js';
import { definitionInfo } from './definition-cache.js';
import type {
  Actor,
  DefinitionInfo,
  DeployInput,
  DeployResult,
  DeployWarning,
  Services,
} from './types.js';

interface CompiledFile {
  filename: string;
  xml: string;
  sha256: string;
  processes: ExecutableProcess[];
}

export function definitionServices(ctx: ServiceContext): Services['definitions'] {
  return {
    async deploy(actor, input) {
      const files = await compileAll(input);
      const em = tenantEm(ctx, actor.tenantId);
      try {
        const result = await em.transactional((tx) => store(tx, actor, input, files));
        for (const d of result.definitions) ctx.definitions.forgetLatest(actor.tenantId, d.key);
        return { ...result, warnings: missingConnectors(files, ctx.connectorTypes?.() ?? null) };
      } catch (error) {
        if (error instanceof UniqueConstraintViolationException) {
          throw new ConflictError(
            'another deployment of the same process key was stored concurrently; deploy again',
          );
        }
        throw error;
      }
    },

    async list(actor, filter = {}) {
      const em = tenantEm(ctx, actor.tenantId);
      const rows = await em.find(ProcessDefinitionSchema, filter.key ? { key: filter.key } : {}, {
        orderBy: { key: 'asc', version: 'desc' },
      });
      const shown = filter.latestOnly
        ? rows.filter((r, i) => i === 0 || rows[i - 1]!.key !== r.key)
        : rows;
      return shown.map(toInfo);
    },

    async get(actor, id) {
      return (await ctx.definitions.get(actor.tenantId, id)).info;
    },

    async getXml(actor, id) {
      const em = tenantEm(ctx, actor.tenantId);
      const row = await em.findOne(ProcessDefinitionSchema, { id }, { populate: ['xml'] });
      if (!row) throw new NotFoundError('ProcessDefinition', id);
      return row.xml;
    },

    async listDeployments(actor) {
      const em = tenantEm(ctx, actor.tenantId);
      const rows = await em.find(DeploymentSchema, {}, { orderBy: { deployedAt: 'desc' } });
      return rows.map((d) => ({ id: d.id, name: d.name, deployedAt: d.deployedAt.toISOString() }));
    },
  };
}

/** Every file must compile before anything is stored: one bad file rejects the deployment. */
async function compileAll(input: DeployInput): Promise<CompiledFile[]> {
  if (!input.files.length) {
    throw new ValidationError('a deployment needs at least one BPMN file', [
      { path: 'files', reason: 'is empty' },
    ]);
  }
  const compiled: CompiledFile[] = [];
  const problems: ValidationError['problems'] = [];
  for (const file of input.files) {
    const result = await compile(file.xml);
    if (!result.ok) {
      problems.push(...result.problems.map((p) => ({ path: file.filename, ...p })));
      continue;
    }
    const sha256 = createHash('sha256').update(file.xml).digest('hex');
    compiled.push({ filename: file.filename, xml: file.xml, sha256, processes: result.processes });
  }
  if (problems.length) throw new ValidationError('the BPMN cannot be deployed', problems);
  return compiled;
}

/**
 * Connector types the diagrams name that this node cannot call. A warning, not a refusal: a
 * definition may be deployed before its connector is installed, and the registry is per node.
 */
function missingConnectors(
  files: CompiledFile[],
  installed: readonly string[] | null,
): DeployWarning[] {
  if (installed === null) return [];
  const known = new Set(installed);
  const listed = installed.length ? installed.join(', ') : 'none';
  return files.flatMap((file) =>
    file.processes.flatMap((process) =>
      [...process.nodes.values()]
        .filter((node) => node.connector !== undefined && !known.has(node.connector.type))
        .map((node) => ({
          path: file.filename,
          elementId: node.id,
          type: node.type,
          reason: `connector type "${node.connector!.type}" is not installed on this node: its instances will stop here with an incident until it is (installed: ${listed})`,
        })),
    ),
  );
}

type StoredDeployment = Omit<DeployResult, 'warnings'>;

async function store(
  em: EntityManager,
  actor: Actor,
  input: DeployInput,
  files: CompiledFile[],
): Promise<StoredDeployment> {
  const now = new Date();
  const tenant = em.getReference(TenantSchema, actor.tenantId);
  const deployment = em.create(DeploymentSchema, {
    id: randomUUID(),
    tenant,
    name: input.name,
    source: input.source ?? null,
    deployedBy: actor.username,
    deployedAt: now,
  });
  const created: ProcessDefinition[] = [];
  const unchanged: ProcessDefinition[] = [];
  for (const file of files) {
    for (const process of file.processes) {
      const latest = await em.findOne(
        ProcessDefinitionSchema,
        { key: process.id },
        { orderBy: { version: 'desc' } },
      );
      if (input.duplicateFiltering && latest?.sha256 === file.sha256) {
        unchanged.push(latest);
        continue;
      }
      const version = (latest?.version ?? 0) + 1;
      created.push(
        em.create(ProcessDefinitionSchema, {
          id: `${process.id}:${version}:${deployment.id}`,
          tenant,
          key: process.id,
          version,
          name: process.name,
          xml: file.xml,
          sha256: file.sha256,
          deployment,
          deployedBy: actor.username,
          deployedAt: now,
        }),
      );
    }
  }
  if (!created.length) {
    // Camunda's duplicate filtering: nothing new, so no new deployment; answer with what is stored.
    em.clear();
    return previousDeployment(em, unchanged);
  }
  await em.flush();
  return {
    deploymentId: deployment.id,
    name: deployment.name,
    deployedAt: now.toISOString(),
    definitions: [...created, ...unchanged].map(toInfo),
  };
}

async function previousDeployment(
  em: EntityManager,
  unchanged: ProcessDefinition[],
): Promise<StoredDeployment> {
  const first = unchanged[0]!;
  const deployment = await em.findOneOrFail(DeploymentSchema, { id: first.deployment.id });
  return {
    deploymentId: deployment.id,
    name: deployment.name,
    deployedAt: deployment.deployedAt.toISOString(),
    definitions: unchanged.map(toInfo),
  };
}

function toInfo(d: ProcessDefinition): DefinitionInfo {
  return definitionInfo({
    id: d.id,
    tenant_id: d.tenant.id,
    key: d.key,
    version: d.version,
    name: d.name,
    sha256: d.sha256,
    deployment_id: d.deployment.id,
    deployed_by: d.deployedBy,
    deployed_at: d.deployedAt,
  });
}
