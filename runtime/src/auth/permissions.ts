/**
 * What each role may do. Routes declare one permission; an actor holds the
 * union of its roles' permissions.
 */
import type { Actor } from '../services/types.js';
import { ForbiddenError } from '../errors.js';

export const ROLES = ['admin', 'analyst', 'clerk', 'supervisor'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  | 'definitions:read'
  | 'definitions:deploy'
  | 'instances:read'
  | 'instances:start'
  | 'instances:cancel'
  | 'tasks:read'
  | 'tasks:work'
  | 'tasks:assign'
  | 'messages:correlate'
  | 'incidents:read'
  | 'incidents:retry'
  | 'mailboxes:read'
  | 'mailboxes:manage'
  | 'pec:read'
  | 'pec:send';

const READ: Permission[] = ['definitions:read', 'instances:read', 'tasks:read', 'incidents:read'];

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set<Permission>([
    ...READ,
    'definitions:deploy',
    'instances:start',
    'instances:cancel',
    'tasks:work',
    'tasks:assign',
    'messages:correlate',
    'incidents:retry',
    'mailboxes:read',
    'mailboxes:manage',
    'pec:read',
    'pec:send',
  ]),
  analyst: new Set<Permission>([
    ...READ,
    'definitions:deploy',
    'instances:start',
    'incidents:retry',
    'mailboxes:read',
    'pec:read',
  ]),
  clerk: new Set<Permission>([
    ...READ,
    'instances:start',
    'tasks:work',
    'messages:correlate',
    'pec:read',
    'pec:send',
  ]),
  supervisor: new Set<Permission>([
    ...READ,
    'instances:start',
    'instances:cancel',
    'tasks:work',
    'tasks:assign',
    'messages:correlate',
    'incidents:retry',
    'mailboxes:read',
    'pec:read',
    'pec:send',
  ]),
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function can(actor: Actor, permission: Permission): boolean {
  return actor.roles.some((role) => isRole(role) && GRANTS[role].has(permission));
}

export function requirePermission(actor: Actor, permission: Permission): void {
  if (!can(actor, permission)) throw new ForbiddenError(permission);
}
