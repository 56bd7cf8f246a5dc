import { ApiTokenSchema } from './api-token.js';
import { BufferedMessageSchema } from './buffered-message.js';
import { DeploymentSchema } from './deployment.js';
import { HistoryEventSchema } from './history-event.js';
import { IncidentSchema } from './incident.js';
import { MembershipSchema } from './membership.js';
import { OfficeSchema } from './office.js';
import { OutboxSchema } from './outbox.js';
import { ProcessDefinitionSchema } from './process-definition.js';
import { ProcessInstanceSchema } from './process-instance.js';
import { SubscriptionSchema } from './subscription.js';
import { TaskSchema } from './task.js';
import { TenantSchema } from './tenant.js';
import { UploadedFileSchema } from './uploaded-file.js';
import { UserSchema } from './user.js';
import { MAILBOX_ENTITIES } from './mailbox.js';
import { MESSAGE_ENTITIES } from './message.js';

export * from './api-token.js';
export * from './buffered-message.js';
export * from './deployment.js';
export * from './history-event.js';
export * from './incident.js';
export * from './membership.js';
export * from './office.js';
export * from './outbox.js';
export * from './process-definition.js';
export * from './process-instance.js';
export * from './subscription.js';
export * from './task.js';
export * from './tenant.js';
export * from './uploaded-file.js';
export * from './user.js';
export * from './mailbox.js';
export * from './message.js';

/** Entities scoped by the `tenant` filter: all but Tenant itself. */
export const TENANT_SCOPED = [
  UserSchema,
  OfficeSchema,
  MembershipSchema,
  ApiTokenSchema,
  DeploymentSchema,
  ProcessDefinitionSchema,
  ProcessInstanceSchema,
  TaskSchema,
  SubscriptionSchema,
  BufferedMessageSchema,
  IncidentSchema,
  OutboxSchema,
  HistoryEventSchema,
  UploadedFileSchema,
  ...MAILBOX_ENTITIES,
  ...MESSAGE_ENTITIES,
];

export const ENTITIES = [TenantSchema, ...TENANT_SCOPED];
