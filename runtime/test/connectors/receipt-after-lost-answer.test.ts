/**
 * A send whose SMTP answer was lost (the provider took the message but
 * answered 4xx) records its recipient `failed` without a receipt certifying it. When the only
 * receipt that then comes is a non-accettazione (the provider refused the message after taking
 * it, e.g. a virus), that receipt is a certified step of the message and must reach the process
 * as `pec.receipt`, as every other receipt does: the connector promises "each receipt comes
 * once, oldest first, even if it arrived before the wait".
 *
 * Real parts, as test/connectors/pec-send-task.test.ts: the runtime with its scheduler, the
 * pectrack:pec send task, the testkit provider's SMTP front over a private Dovecot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpFront } from '@pectrack/connector-pec/testkit';
import { runMailboxSession } from '../../src/intake/index.js';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { testDatabases } from '../support/databases.js';
import { diagram, flows } from '../support/fixtures.js';
import { eventually } from '../support/wait.js';
import { pecFixtures } from '../intake/support/fixtures.js';
import { RECIPIENT, sendPecTask, startSendTasks } from '../intake/support/sending.js';
import { dovecotMissing, TENANT, type IntakeHarness } from '../intake/support/services.js';

const sqlite = (await testDatabases()).find((d) => d.kind === 'sqlite')!;
const actor = admin();

/** The connector's documented pattern: send, then a receive task on pec.receipt keyed by the Message-ID. */
const sendAndAwait = diagram(
  'notify-and-await',
  `${sendPecTask()}
   <bpmn:receiveTask id="await-receipt" messageRef="msg-receipt" pectrack:correlationKey="=sentMessageId" />
   <bpmn:endEvent id="end" />
   ${flows('start>send-pec', 'send-pec>await-receipt', 'await-receipt>end')}`,
  '<bpmn:message id="msg-receipt" name="pec.receipt" />',
);

describe.skipIf(Boolean(dovecotMissing))(
  'a non-accettazione after a lost submission answer',
  () => {
    const fixtures = pecFixtures();
    let h: IntakeHarness;
    let front: SmtpFront;
    let senderId: string;

    beforeAll(async () => {
      ({ h, front, senderId } = await startSendTasks(sqlite, fixtures, [
        { filename: 'notify-and-await.bpmn', xml: sendAndAwait },
      ]));
    });
    afterAll(async () => {
      await front?.close();
      await h?.close();
    });

    it('the certified non-accettazione that follows a lost answer reaches the waiting process as pec.receipt', async () => {
      // The provider takes the message, answers the DATA with 451, then refuses it for a virus.
      front.faults = { failAfterAccepting: true, virus: true };
      const instance = await h.runtime.services.instances.start(actor, {
        definitionKey: 'notify-and-await',
        variables: { office: RECIPIENT, caseNumber: 'NA-1' },
      });
      const incident = await eventually('the incident of the lost answer', async () => {
        const [open] = await h.runtime.services.incidents.list(actor, {
          instanceId: instance.id,
          status: 'open',
        });
        return open;
      });
      front.faults = {};
      await front.settled();
      expect(front.processed.at(-1)!.deliveries).toEqual([
        'non-accettazione → protocollo@comune.pec.test',
      ]);
      // The intake reads the non-accettazione: the recipient's failure is now certified.
      await runMailboxSession(h.ctx, TENANT, senderId, { once: true });
      const db = knexOf(h.runtime.orm);
      const [sent] = await db('message')
        .where({ subject: 'Pratica NA-1', direction: 'out' })
        .select('id', 'message_id');
      const steps = await db('message_event')
        .where({ message_id: sent.id })
        .orderBy('id')
        .pluck('event');
      expect(steps).toEqual(['submission-failed', 'non-accettazione']);

      // The clerk retries the incident: the send task answers with the message already certified
      // and the process waits for its receipts, as the connector's template says.
      await h.runtime.services.incidents.retry(actor, incident.id);
      await eventually('the send task done after the retry', async () => {
        const d = await h.runtime.services.instances.get(actor, instance.id);
        return typeof d.variables.sentMessageId === 'string' ? d : null;
      });
      // The non-accettazione must come to the wait (kept for it, or taken at once).
      const taken = await eventually(
        'the process to take the non-accettazione',
        async () => {
          const d = await h.runtime.services.instances.get(actor, instance.id);
          return d.status === 'completed' ? d : null;
        },
        5_000,
      ).catch(() => h.runtime.services.instances.get(actor, instance.id));
      const receipt = taken.variables.receipt as { evidence?: string } | undefined;
      expect({ status: taken.status, evidence: receipt?.evidence ?? null }).toEqual({
        status: 'completed',
        evidence: 'non-accettazione',
      });
    });
  },
);
