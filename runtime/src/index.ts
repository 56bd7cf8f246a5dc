/** Public API of @pectrack/runtime: what the CLI, samples loader and other packages build on. */
export {
  createApp,
  DEFAULT_LIMITS,
  type ApiLimits,
  type AppOptions,
  type PecTrackApp,
} from './api/app.js';
export { endpoint, type Endpoint, type EndpointSpec } from './api/endpoint.js';
export {
  createAuthenticator,
  type Account,
  type AccountLookup,
  type Authenticator,
} from './auth/authenticator.js';
export { ormAccounts } from './auth/accounts.js';
export { can, requirePermission, ROLES, type Permission, type Role } from './auth/permissions.js';
export { hashPassword, verifyPassword } from './auth/passwords.js';
export { generateToken, hashToken } from './auth/tokens.js';
export {
  addUser,
  createApiToken,
  listApiTokens,
  revokeApiToken,
  setPassword,
  userExists,
  type NewUser,
  type TokenSummary,
} from './auth/users.js';
export { loadConfig, ConfigError, type RuntimeConfig, type DatabaseConfig } from './config.js';
export * from './errors.js';
export { createRuntime } from './runtime.js';
export type * from './services/types.js';
export { openOrm, migrate, type Orm } from './store/orm.js';
