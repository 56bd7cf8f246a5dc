import { EntitySchema } from '@mikro-orm/core';
import { OfficeSchema, type Office } from './office.js';
import { TenantSchema, type Tenant } from './tenant.js';
import { UserSchema, type User } from './user.js';

/** A user's role inside one office (clerk, head, supervisor ...). */
export interface Membership {
  id: string;
  tenant: Tenant;
  user: User;
  office: Office;
  role: string;
}

export const MembershipSchema = new EntitySchema<Membership>({
  name: 'Membership',
  tableName: 'membership',
  uniques: [{ properties: ['user', 'office', 'role'] }],
  properties: {
    id: { type: 'string', primary: true, length: 64 },
    tenant: { kind: 'm:1', entity: () => TenantSchema },
    user: { kind: 'm:1', entity: () => UserSchema },
    office: { kind: 'm:1', entity: () => OfficeSchema },
    role: { type: 'string' },
  },
});
