/**
 * Administration of users and API tokens (the CLI and the admin API use it).
 * Each function is one unit of work on the ORM.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../store/orm.js';
import {
  ApiTokenSchema,
  TenantSchema,
  UserSchema,
  type Tenant,
  type User,
} from '../store/entities/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { hashPassword } from './passwords.js';
import { isRole, ROLES } from './permissions.js';
import { generateToken } from './tokens.js';

export interface NewUser {
  tenantId: string;
  username: string;
  password: string;
  roles: string[];
  displayName?: string | null;
}

async function ensureTenant(em: EntityManager, tenantId: string): Promise<Tenant> {
  const found = await em.findOne(TenantSchema, { id: tenantId });
  return found ?? em.create(TenantSchema, { id: tenantId, name: tenantId, createdAt: new Date() });
}

async function findUser(em: EntityManager, tenantId: string, username: string): Promise<User> {
  const user = await em.findOne(UserSchema, { tenant: tenantId, username }, { filters: false });
  if (!user) throw new NotFoundError('user', `${tenantId}/${username}`);
  return user;
}

function checkUser(input: NewUser): void {
  if (!/^[A-Za-z0-9._@-]{1,100}$/.test(input.username)) {
    throw new BadRequestError(
      'invalid-username',
      `username "${input.username}" may use letters, digits and . _ @ - only`,
    );
  }
  if (input.password.length < 4)
    throw new BadRequestError('weak-password', 'password must have at least 4 characters');
  const unknown = input.roles.filter((role) => !isRole(role));
  if (input.roles.length === 0 || unknown.length > 0) {
    throw new BadRequestError(
      'invalid-role',
      `roles must be some of ${ROLES.join(', ')}; got ${input.roles.join(', ') || 'none'}`,
    );
  }
}

export async function addUser(
  orm: Orm,
  input: NewUser,
): Promise<{ id: string; tenantId: string; username: string }> {
  checkUser(input);
  const em = orm.em.fork();
  const existing = await em.findOne(
    UserSchema,
    { tenant: input.tenantId, username: input.username },
    { filters: false },
  );
  if (existing) throw new ConflictError(`user ${input.tenantId}/${input.username} already exists`);
  const user = em.create(UserSchema, {
    id: randomUUID(),
    tenant: await ensureTenant(em, input.tenantId),
    username: input.username,
    passwordHash: await hashPassword(input.password),
    displayName: input.displayName ?? null,
    roles: input.roles,
    active: true,
    createdAt: new Date(),
  });
  await em.flush();
  return { id: user.id, tenantId: input.tenantId, username: user.username };
}

export async function userExists(orm: Orm, tenantId: string, username: string): Promise<boolean> {
  return (
    (await orm.em.fork().count(UserSchema, { tenant: tenantId, username }, { filters: false })) > 0
  );
}

/** Returns the secret once; only its hash is kept. */
export async function createApiToken(
  orm: Orm,
  input: { tenantId: string; username: string; name: string },
): Promise<{ id: string; token: string }> {
  const em = orm.em.fork();
  const user = await findUser(em, input.tenantId, input.username);
  const { token, tokenHash } = generateToken();
  const row = em.create(ApiTokenSchema, {
    id: randomUUID(),
    tenant: user.tenant,
    name: input.name,
    tokenHash,
    user,
    createdAt: new Date(),
    lastUsedAt: null,
    revokedAt: null,
  });
  await em.flush();
  return { id: row.id, token };
}

export async function revokeApiToken(orm: Orm, tokenId: string): Promise<void> {
  const em = orm.em.fork();
  const token = await em.findOne(ApiTokenSchema, { id: tokenId }, { filters: false });
  if (!token) throw new NotFoundError('API token', tokenId);
  token.revokedAt ??= new Date();
  await em.flush();
}

export interface TokenSummary {
  id: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

/** The tokens of a user, newest first; never their secrets, which are not stored. */
export async function listApiTokens(
  orm: Orm,
  input: { tenantId: string; username: string },
): Promise<TokenSummary[]> {
  const em = orm.em.fork();
  const user = await findUser(em, input.tenantId, input.username);
  const tokens = await em.find(
    ApiTokenSchema,
    { user },
    { filters: false, orderBy: { createdAt: 'desc' } },
  );
  return tokens.map((token) => ({
    id: token.id,
    name: token.name,
    createdAt: token.createdAt.toISOString(),
    revokedAt: token.revokedAt?.toISOString() ?? null,
  }));
}

export async function setPassword(
  orm: Orm,
  input: { tenantId: string; username: string; password: string },
): Promise<void> {
  if (input.password.length < 4) {
    throw new BadRequestError('weak-password', 'password must have at least 4 characters');
  }
  const em = orm.em.fork();
  const user = await findUser(em, input.tenantId, input.username);
  user.passwordHash = await hashPassword(input.password);
  await em.flush();
}
