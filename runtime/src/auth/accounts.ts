/**
 * Accounts read straight from the ORM entities. Authentication happens before
 * the tenant is known, so these lookups run with the tenant filter off and
 * return the tenant they found.
 */
import type { Orm } from '../store/orm.js';
import { ApiTokenSchema, UserSchema, type User } from '../store/entities/index.js';
import type { Account, AccountLookup } from './authenticator.js';

function toAccount(user: User): Account {
  return {
    tenantId: user.tenant.id,
    userId: user.id,
    username: user.username,
    roles: [...user.roles],
    passwordHash: user.passwordHash,
    active: user.active,
  };
}

/** `tenant/username` names a tenant; a bare username means the default tenant. */
export function splitLogin(
  login: string,
  defaultTenant: string,
): { tenantId: string; username: string } {
  const slash = login.indexOf('/');
  if (slash <= 0) return { tenantId: defaultTenant, username: login };
  return { tenantId: login.slice(0, slash), username: login.slice(slash + 1) };
}

export function ormAccounts(orm: Orm, defaultTenant: string): AccountLookup {
  return {
    async byUsername(login) {
      const { tenantId, username } = splitLogin(login, defaultTenant);
      const user = await orm.em
        .fork()
        .findOne(UserSchema, { tenant: tenantId, username }, { filters: false });
      return user ? toAccount(user) : null;
    },
    async byTokenHash(tokenHash) {
      const token = await orm.em
        .fork()
        .findOne(
          ApiTokenSchema,
          { tokenHash, revokedAt: null },
          { filters: false, populate: ['user'] },
        );
      return token ? toAccount(token.user) : null;
    },
  };
}
