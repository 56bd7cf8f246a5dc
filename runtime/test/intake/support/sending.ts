/**
 * The sending suites' setting: an intake harness, the testkit provider's SMTP front over its
 * Dovecot, a sender mailbox that submits through the front and a recipient mailbox it delivers
 * to.
 */
import { pino } from 'pino';
import { startSmtpFront, type SmtpFront } from '@pectrack/connector-pec/testkit';
import { installAll, pecConnector, registryEntries } from '../../../src/connectors/index.js';
import { createIntake } from '../../../src/intake/index.js';
import type { IntakeLimits } from '../../../src/intake/index.js';
import { outgoingServices, type OutgoingServices } from '../../../src/intake/outgoing.js';
import type { RuntimeOptions } from '../../../src/runtime.js';
import { admin } from '../../support/actors.js';
import type { TestDatabase } from '../../support/databases.js';
import type { PecFixtures } from './fixtures.js';
import { PASSWORD, startHarness, type IntakeHarness } from './services.js';

export const SENDER = 'protocollo@comune.pec.test';
export const RECIPIENT = 'ufficio.tecnico@regione.pec.test';

export interface SendingHarness {
  h: IntakeHarness;
  front: SmtpFront;
  outgoing: OutgoingServices;
  senderId: string;
  recipientId: string;
  close(): Promise<void>;
}

export async function startSending(
  database: TestDatabase,
  fixtures: PecFixtures,
  options: {
    externalDomains?: string[];
    limits?: Partial<IntakeLimits>;
    runtime?: RuntimeOptions;
  } = {},
): Promise<SendingHarness> {
  const h = await startHarness(database, fixtures, options.limits, options.runtime);
  const front = await startSmtpFront({
    provider: fixtures.provider,
    imap: { host: h.dovecot.host, port: h.dovecot.port },
    mailboxes: { [SENDER]: PASSWORD, [RECIPIENT]: PASSWORD },
    ...(options.externalDomains && { externalDomains: options.externalDomains }),
  });
  const senderId = await h.addMailbox(SENDER, { smtp: { host: front.host, port: front.port } });
  const recipientId = await h.addMailbox(RECIPIENT);
  return {
    h,
    front,
    outgoing: outgoingServices(h.ctx),
    senderId,
    recipientId,
    async close() {
      await front.close();
      await h.close();
    },
  };
}

/**
 * For the suites that send from a process: the sending setting with the pectrack:pec connector
 * installed on the runtime (sending from the sender mailbox), its scheduler started, retries
 * 100 ms apart, and `files` deployed.
 */
/** The send tasks' throttle window (IntakeLimits.throttleRetryMs), short for tests. */
export const THROTTLE_RETRY_MS = 1_000;

export async function startSendTasks(
  database: TestDatabase,
  fixtures: PecFixtures,
  files: { filename: string; xml: string }[],
): Promise<SendingHarness> {
  const sending = await startSending(database, fixtures, {
    // A throttled send's retries wait this long at least: far above the backoff, so a test sees them spaced.
    limits: { pacingRecheckMs: 100, throttleRetryMs: THROTTLE_RETRY_MS },
    runtime: { scheduler: { connectorBackoffMs: 100, processEveryMs: 100 } },
  });
  const { h, senderId } = sending;
  const installed = installAll([pecConnector(createIntake(h.ctx, null))], {
    'pectrack:pec': { mailboxId: senderId },
  });
  for (const [key, handler] of Object.entries(
    registryEntries(installed, pino({ level: 'silent' })),
  ))
    h.runtime.connectors.register(key, handler);
  await h.runtime.start();
  await h.runtime.services.definitions.deploy(admin(), { name: 'notify-office', files });
  return sending;
}

/**
 * The send task the process suites start with: a PEC to `office`, its Message-ID mapped to
 * `sentMessageId`; `inputs` adds input mappings (a Cc, say).
 */
export function sendPecTask(inputs = ''): string {
  return `<bpmn:startEvent id="start" />
   <bpmn:sendTask id="send-pec">
     <bpmn:extensionElements>
       <pectrack:connector type="pectrack:pec">
         <pectrack:input source="=office" target="to" />${inputs}
         <pectrack:input source="=&quot;Pratica &quot; + caseNumber" target="subject" />
         <pectrack:input source="=&quot;Si trasmette la pratica.&quot;" target="text" />
         <pectrack:output source="=messageId" target="sentMessageId" />
       </pectrack:connector>
     </bpmn:extensionElements>
   </bpmn:sendTask>`;
}

/** A process that waits for a sent message's acceptance, then its delivery, as `pec.receipt`. */
export const AWAIT_RECEIPTS = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:pectrack="http://pectrack.org/schema/bpmn/1.0" id="defs" targetNamespace="http://pectrack.org/test">
  <bpmn:message id="msg-receipt" name="pec.receipt" />
  <bpmn:process id="await-receipts" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:receiveTask id="await-acceptance" messageRef="msg-receipt" pectrack:correlationKey="=sentMessageId" />
    <bpmn:receiveTask id="await-delivery" messageRef="msg-receipt" pectrack:correlationKey="=sentMessageId" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="await-acceptance" />
    <bpmn:sequenceFlow id="f2" sourceRef="await-acceptance" targetRef="await-delivery" />
    <bpmn:sequenceFlow id="f3" sourceRef="await-delivery" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>`;
