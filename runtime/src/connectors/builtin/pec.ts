/**
 * Binds the PEC connector to the intake's certified sending, which records the outgoing Message
 * and its recipients before submission; the connector adds no second way to send.
 * A failure is final (a person decides, by retrying the incident) unless the provider certainly
 * did not take the message and asked to try later (a temporary refusal: providers throttle
 * sending, InfoCert at 6 messages a minute) or could not be reached: the job's backoff retries
 * it under the task's idempotency key. Any other retry could certify the message twice.
 */
import { ConnectorError, type Connector } from '@pectrack/connector-sdk';
import {
  createPecConnector,
  type OutgoingAttachment,
  type PecSendRequest,
} from '@pectrack/connector-pec';
import { PecTrackError } from '../../errors.js';
import { SubmissionFailedError, type Intake } from '../../intake/index.js';
import { SendingPacedError } from '../../intake/pacing.js';
import { SendNotStartedError } from '../../intake/outgoing.js';
import { SendInProgressError } from '../../intake/send-request.js';
import { BlobDamagedError, BlobNotFoundError } from '../../store/blobs.js';

export function pecConnector(intake: Intake): Connector {
  return createPecConnector({
    async send(request) {
      const attachments = await readAttachments(
        intake,
        request.tenantId,
        request.attachments ?? [],
      );
      try {
        const sent = await intake.outgoing.send(
          request.tenantId,
          request.mailboxId,
          {
            to: request.to,
            cc: request.cc,
            subject: request.subject,
            text: request.text,
            attachments,
            receiptType: request.receiptType,
          },
          // A re-run of the same task's job finds the message this key recorded instead of certifying another.
          // A person who corrected the variables and retried the incident replaces a message
          // the provider refused; one it may have certified is never sent again.
          { idempotencyKey: request.idempotencyKey, replaceRefused: true },
        );
        return { id: sent.id, messageId: sent.messageId, deliveryStatus: sent.deliveryStatus };
      } catch (error) {
        // Not a failure: the mailbox's pace (intake/pacing.ts) says when to try again.
        if (error instanceof SendingPacedError)
          throw new ConnectorError('PEC_SENDING_PACED', error.message, {
            retryAfterMs: error.retryAfterMs,
            cause: error,
          });
        // A run of this job that died while submitting still holds the message: its outcome is
        // awaited, never a second submission.
        if (error instanceof SendInProgressError)
          throw new ConnectorError('PEC_SEND_IN_PROGRESS', error.message, {
            retryAfterMs: error.retryAfterMs,
            cause: error,
          });
        // Refused for now, not reached, or stopped before anything went out: a retry is safe.
        const retrySafe =
          error instanceof SubmissionFailedError || error instanceof SendNotStartedError;
        if (retrySafe && error.details?.transient === true)
          throw new ConnectorError('PEC_SUBMISSION_DEFERRED', error.message, {
            retryable: true,
            // A reply "later" (4xx) is a provider's throttle, which lasts its window; a
            // provider not reached is tried again on the usual backoff.
            ...(typeof error.details.responseCode === 'number' && {
              retryNotBeforeMs: intake.ctx.limits.throttleRetryMs,
            }),
            cause: error,
          });
        if (!(error instanceof PecTrackError)) throw final('PEC_SEND_FAILED', error);
        const field = error.details?.field;
        throw final(error.code, error, typeof field === 'string' ? field : undefined);
      }
    },
  });
}

/** Each attachment's bytes, from the files the tenant uploaded (POST /api/v1/files). */
async function readAttachments(
  intake: Intake,
  tenantId: string,
  references: NonNullable<PecSendRequest['attachments']>,
): Promise<OutgoingAttachment[]> {
  return Promise.all(
    references.map(async (reference, index) => {
      try {
        if (!(await intake.files.holds(tenantId, reference.blob)))
          throw new BlobNotFoundError(reference.blob);
        return {
          filename: reference.filename,
          contentType: reference.contentType,
          content: await intake.ctx.blobs.read(reference.blob),
        };
      } catch (error) {
        if (error instanceof BlobNotFoundError)
          throw final('ATTACHMENT_MISSING', error, `attachments.${index}.blob`);
        if (error instanceof BlobDamagedError)
          throw final('ATTACHMENT_DAMAGED', error, `attachments.${index}.blob`);
        throw error;
      }
    }),
  );
}

function final(code: string, error: unknown, field?: string): ConnectorError {
  const message = (error as Error).message;
  return new ConnectorError(code, field ? `${field}: ${message}` : message, {
    retryable: false,
    cause: error,
  });
}
