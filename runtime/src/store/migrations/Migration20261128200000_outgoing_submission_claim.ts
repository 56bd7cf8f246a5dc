import { Migration } from '@mikro-orm/migrations';

/**
 * Two calls with one idempotency key at the same moment (an API client that retried a send
 * whose answer it did not see) must not both submit: the call that is submitting holds a claim
 * on the outgoing row until the outcome is recorded. The fingerprint of what the first call
 * asked to send lets a repeat that asks for something else under the same key be refused.
 */
export class Migration20261128200000_outgoing_submission_claim extends Migration {
  override up(): void {
    const change = this.getKnex().schema.alterTable('message', (t) => {
      t.string('request_fingerprint', 64);
      t.datetime('submission_claimed_at', { useTz: true });
    });
    for (const statement of change.toSQL()) this.addSql(statement.sql);
  }
}
