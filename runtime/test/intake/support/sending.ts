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
export async function startSendTasks(
  database: TestDatabase,
  fixtures: PecFixtures,
  files: { filename: string; xml: string }[],
): Promise<SendingHarness> {
  const sending = await startSending(database, fixtures, {
    limits: { pacingRecheckMs: 100 },
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
