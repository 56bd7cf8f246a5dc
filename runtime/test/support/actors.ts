import type { Actor } from '../../src/services/types.js';

export const admin = (tenantId = 'default'): Actor => ({
  tenantId,
  userId: 'u-admin',
  username: 'admin',
  roles: ['admin'],
});
