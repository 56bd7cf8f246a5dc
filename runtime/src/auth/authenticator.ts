/**
 * Resolves the credentials of a request to an Actor. HTTP Basic carries a
 * username and either the password or one of the user's API tokens (for
 * clients that only speak Basic); Bearer carries an API token.
 */
import type { Actor } from '../services/types.js';
import { UnauthorizedError } from '../errors.js';
import { parseAuthorization } from './credentials.js';
import { LoginThrottle } from './login-throttle.js';
import { hashPassword } from './passwords.js';
import { hashToken, looksLikeToken } from './tokens.js';
import { VerifiedPasswords } from './verified-passwords.js';

export interface Account {
  tenantId: string;
  userId: string;
  username: string;
  roles: string[];
  passwordHash: string | null;
  active: boolean;
}

/** Where accounts live: the ORM in the server, anything in between for tests of this module. */
export interface AccountLookup {
  byUsername(username: string): Promise<Account | null>;
  /** The active account owning an unrevoked token with this SHA-256, or null. */
  byTokenHash(tokenHash: string): Promise<Account | null>;
}

export type Authenticator = (authorization: string | undefined) => Promise<Actor>;

const INVALID = 'invalid username or password';

/** No login holds one (users.ts checks names); a database would refuse a NUL, as a 500. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export function createAuthenticator(
  accounts: AccountLookup,
  throttle = new LoginThrottle(),
): Authenticator {
  // Verifying against a throwaway hash when the user is unknown keeps the
  // response time from revealing which usernames exist.
  const decoy = hashPassword('decoy password that never matches');
  const verified = new VerifiedPasswords();

  return async (authorization) => {
    const credentials = parseAuthorization(authorization);
    if (!credentials)
      throw new UnauthorizedError(
        'authentication required: send HTTP Basic credentials or a Bearer API token',
      );
    if (credentials.kind === 'bearer')
      return toActor(await tokenAccount(accounts, credentials.token));

    const login = credentials.username;
    throttle.check(login);
    const account = CONTROL_CHARACTER.test(login) ? null : await accounts.byUsername(login);
    if (looksLikeToken(credentials.password)) {
      const owner = await tokenAccount(accounts, credentials.password);
      if (owner.userId !== account?.userId) throw new UnauthorizedError(INVALID);
      return toActor(owner);
    }
    const ok = await verified.verify(credentials.password, account?.passwordHash ?? (await decoy));
    if (!account || !ok || !account.passwordHash || !account.active) {
      throttle.failed(login);
      throw new UnauthorizedError(INVALID);
    }
    throttle.succeeded(login);
    return toActor(account);
  };
}

async function tokenAccount(accounts: AccountLookup, token: string): Promise<Account> {
  const account = await accounts.byTokenHash(hashToken(token));
  if (!account || !account.active)
    throw new UnauthorizedError('invalid, revoked or expired API token');
  return account;
}

function toActor(account: Account): Actor {
  return {
    tenantId: account.tenantId,
    userId: account.userId,
    username: account.username,
    roles: account.roles,
  };
}
