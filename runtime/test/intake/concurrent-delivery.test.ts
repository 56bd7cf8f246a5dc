/**
 * Two writers of one sent message's delivery state — a receipt applied by the intake, the
 * submission's outcome recorded after the provider answers, or either on another node — take
 * turns on PostgreSQL: the second waits for the first to commit and starts from what it
 * committed, instead of writing back the state it read before (a lost update).
 *
 * The other writer is a transaction of the test's own that moves the recipient on, as another
 * node applying the delivery receipt would, and holds the rows until the intake's transaction
 * is seen waiting for them (pg_stat_activity): no timing decides the interleaving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpFront } from '@pectrack/connector-pec/testkit';
import type { Knex } from 'knex';
import { runMailboxSession } from '../../src/intake/index.js';
import type { OutgoingServices } from '../../src/intake/outgoing.js';
import { knexOf } from '../../src/store/orm.js';
import { testDatabases } from '../support/databases.js';
import { eventually, within } from '../support/wait.js';
import { pecFixtures } from './support/fixtures.js';
import { RECIPIENT, startSending, type SendingHarness } from './support/sending.js';
import { dovecotMissing, TENANT, type IntakeHarness } from './support/services.js';

const fixtures = pecFixtures();
const postgresql = (await testDatabases()).find((d) => d.kind === 'postgresql')!;

describe.skipIf(Boolean(dovecotMissing) || !postgresql.available)(
  'delivery state with concurrent writers (PostgreSQL)',
  () => {
    let h: IntakeHarness;
    let front: SmtpFront;
    let outgoing: OutgoingServices;
    let senderId: string;
    let knex: Knex;
    let sending: SendingHarness | undefined;

    beforeAll(async () => {
      sending = await startSending(postgresql, fixtures);
      ({ h, front, outgoing, senderId } = sending);
      knex = knexOf(h.runtime.orm);
    });
    afterAll(() => sending?.close());

    /** Another writer: the recipient delivered, its rows held until `commit`. */
    const deliverElsewhere = async (sentId: string) => {
      const other = await knex.transaction();
      await other('outgoing_recipient')
        .where({ message_id: sentId })
        .update({ status: 'delivered' });
      await other('message').where({ id: sentId }).update({ delivery_status: 'delivered' });
      return other;
    };

    /** Resolves once a session of this database waits for a row lock held by another. */
    const someoneWaitsForARow = () =>
      eventually('a transaction waiting for the held rows', async () => {
        const { rows } = (await knex.raw(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`,
        )) as { rows: { n: number }[] };
        return rows[0]!.n > 0;
      });

    const steps = async (sentId: string) =>
      (
        await knex('message_event')
          .where({ message_id: sentId })
          .orderBy('id')
          .select('event', 'data')
      ).map((step: { event: string; data: unknown }) => {
        const data = (typeof step.data === 'string' ? JSON.parse(step.data) : step.data) as {
          from?: string;
          to?: string;
        } | null;
        return `${step.event} ${data?.from ?? ''}→${data?.to ?? ''}`;
      });

    it('a receipt applied while another writer holds the message starts from what that writer committed', async () => {
      const sent = await outgoing.send(TENANT, senderId, {
        to: [RECIPIENT],
        subject: 'Trasmissione atti',
        text: 'Si trasmettono gli atti richiesti.',
      });
      await front.settled();
      const other = await deliverElsewhere(sent.id);
      const sync = runMailboxSession(h.ctx, TENANT, senderId, { once: true });
      try {
        await someoneWaitsForARow();
      } finally {
        await other.commit();
      }
      await within('the sync', sync);
      // The acceptance found the recipient delivered and left it so; it did not replay
      // submitted → accepted over the committed delivery.
      expect(await steps(sent.id)).toEqual([
        'submitted →',
        'accettazione delivered→delivered',
        'avvenuta-consegna delivered→delivered',
      ]);
      const [row] = await knex('message').where({ id: sent.id }).select('delivery_status');
      expect(row.delivery_status).toBe('delivered');
    });

    it('the submission outcome recorded after the receipts keeps the state they moved to', async () => {
      const release = front.holdAnswers();
      const sending = outgoing.send(TENANT, senderId, {
        to: [RECIPIENT],
        subject: 'Risposta lenta del gestore',
        text: 'Le ricevute arrivano prima della risposta alla consegna.',
      });
      let other: Knex.Transaction | undefined;
      try {
        const sentId = await eventually('the recorded submission', async () => {
          const [row] = await knex('message')
            .where({ subject: 'Risposta lenta del gestore', direction: 'out' })
            .select('id');
          return row?.id as string | undefined;
        });
        other = await deliverElsewhere(sentId);
        release();
        await someoneWaitsForARow();
      } finally {
        release();
        await other?.commit();
      }
      const sent = await within('the send', sending);
      expect(sent).toMatchObject({
        deliveryStatus: 'delivered',
        recipients: [{ address: RECIPIENT, status: 'delivered' }],
      });
      const [row] = await knex('message').where({ id: sent.id }).select('delivery_status');
      expect(row.delivery_status).toBe('delivered');
    });
  },
);
