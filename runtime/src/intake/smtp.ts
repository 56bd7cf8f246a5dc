/** The submission server of a mailbox, with its decrypted credentials (see imap.ts for reading). */
import type { SmtpSettings } from '@pectrack/connector-pec';
import { BadRequestError } from '../errors.js';
import type { Mailbox } from '../store/entities/mailbox.js';
import type { IntakeContext } from './context.js';
import { decryptSecret } from './secrets.js';

export function smtpSettingsOf(
  mailbox: Mailbox,
  ctx: Pick<IntakeContext, 'secretKey' | 'mailTrust'>,
): SmtpSettings {
  if (!mailbox.smtpHost || !mailbox.smtpPort) {
    throw new BadRequestError(
      'mailbox-without-smtp',
      `mailbox ${mailbox.id} has no SMTP settings: set smtp.host and smtp.port`,
      {
        field: 'smtp',
      },
    );
  }
  return {
    host: mailbox.smtpHost,
    port: mailbox.smtpPort,
    tls: mailbox.smtpTls,
    allowPlaintext: mailbox.smtpAllowPlaintext,
    ...(ctx.mailTrust && { trustedCa: ctx.mailTrust }),
    username: mailbox.username,
    password: decryptSecret(ctx.secretKey, mailbox.passwordEncrypted),
  };
}
