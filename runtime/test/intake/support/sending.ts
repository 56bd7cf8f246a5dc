/**
 * The sending suites' setting: an intake harness, the testkit provider's SMTP front over its
 * Dovecot, a sender mailbox that submits through the front and a recipient mailbox it delivers
 * to.
 */
import { startSmtpFront, type SmtpFront } from '@pectrack/connector-pec/testkit';
import { outgoingServices, type OutgoingServices } from '../../../src/intake/outgoing.js';
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
  options: { externalDomains?: string[] } = {},
): Promise<SendingHarness> {
  const h = await startHarness(database, fixtures);
  const front = await startSmtpFront({
    provider: fixtures.provider,
    imap: { host: h.dovecot.host, port: h.dovecot.port },
    mailboxes: { [SENDER]: PASSWORD, [RECIPIENT]: PASSWORD },
    ...options,
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
