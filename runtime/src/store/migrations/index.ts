import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127000000_initial } from './Migration20261127000000_initial.js';
import { Migration20261127100000_intake } from './Migration20261127100000_intake.js';
import { Migration20261127200000_outgoing_idempotency } from './Migration20261127200000_outgoing_idempotency.js';
import { Migration20261127300000_mailbox_folder_problems } from './Migration20261127300000_mailbox_folder_problems.js';
import { Migration20261127400000_message_listing } from './Migration20261127400000_message_listing.js';
import { Migration20261127500000_mailbox_sending_pace } from './Migration20261127500000_mailbox_sending_pace.js';
import { Migration20261127600000_message_feed } from './Migration20261127600000_message_feed.js';
import { Migration20261128000000_buffered_message } from './Migration20261128000000_buffered_message.js';
import { Migration20261128100000_delivery_feed } from './Migration20261128100000_delivery_feed.js';
import { Migration20261128200000_outgoing_submission_claim } from './Migration20261128200000_outgoing_submission_claim.js';
import { Migration20261128300000_mailbox_sending_queue } from './Migration20261128300000_mailbox_sending_queue.js';
import { Migration20261128400000_uploaded_file } from './Migration20261128400000_uploaded_file.js';
import { Migration20261128500000_mailbox_sync_request } from './Migration20261128500000_mailbox_sync_request.js';
import { Migration20261128600000_checkpoint_account } from './Migration20261128600000_checkpoint_account.js';
import { Migration20261128700000_mailbox_plaintext_login } from './Migration20261128700000_mailbox_plaintext_login.js';
import { Migration20261128800000_blob_references } from './Migration20261128800000_blob_references.js';
import { Migration20261128900000_checkpoint_withheld } from './Migration20261128900000_checkpoint_withheld.js';

/** Listed explicitly so migrations run the same from src (tsx, vitest) and from dist. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261127000000_initial', class: Migration20261127000000_initial },
  { name: 'Migration20261127100000_intake', class: Migration20261127100000_intake },
  {
    name: 'Migration20261127200000_outgoing_idempotency',
    class: Migration20261127200000_outgoing_idempotency,
  },
  {
    name: 'Migration20261127300000_mailbox_folder_problems',
    class: Migration20261127300000_mailbox_folder_problems,
  },
  {
    name: 'Migration20261127400000_message_listing',
    class: Migration20261127400000_message_listing,
  },
  {
    name: 'Migration20261127500000_mailbox_sending_pace',
    class: Migration20261127500000_mailbox_sending_pace,
  },
  { name: 'Migration20261127600000_message_feed', class: Migration20261127600000_message_feed },
  {
    name: 'Migration20261128000000_buffered_message',
    class: Migration20261128000000_buffered_message,
  },
  { name: 'Migration20261128100000_delivery_feed', class: Migration20261128100000_delivery_feed },
  {
    name: 'Migration20261128200000_outgoing_submission_claim',
    class: Migration20261128200000_outgoing_submission_claim,
  },
  {
    name: 'Migration20261128300000_mailbox_sending_queue',
    class: Migration20261128300000_mailbox_sending_queue,
  },
  { name: 'Migration20261128400000_uploaded_file', class: Migration20261128400000_uploaded_file },
  {
    name: 'Migration20261128500000_mailbox_sync_request',
    class: Migration20261128500000_mailbox_sync_request,
  },
  {
    name: 'Migration20261128600000_checkpoint_account',
    class: Migration20261128600000_checkpoint_account,
  },
  {
    name: 'Migration20261128700000_mailbox_plaintext_login',
    class: Migration20261128700000_mailbox_plaintext_login,
  },
  {
    name: 'Migration20261128800000_blob_references',
    class: Migration20261128800000_blob_references,
  },
  {
    name: 'Migration20261128900000_checkpoint_withheld',
    class: Migration20261128900000_checkpoint_withheld,
  },
];
