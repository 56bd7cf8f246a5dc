/**
 * Binds the PEC connector to the intake's certified sending, which records the outgoing Message
 * and its recipients before submission; the connector adds no second way to send.
 * Every failure is final: a retry could certify the same message twice, so a person decides,
 * by retrying the incident.
 */
import { ConnectorError, type Connector } from '@pectrack/connector-sdk';
import {
  createPecConnector,
  type OutgoingAttachment,
  type PecSendRequest,
} from '@pectrack/connector-pec';
import { PecTrackError } from '../../errors.js';
import type { Intake } from '../../intake/index.js';
import { BlobNotFoundError, type BlobStore } from '../../store/blobs.js';

export function pecConnector(intake: Intake): Connector {
  return createPecConnector({
    async send(request) {
      const attachments = await readAttachments(intake.ctx.blobs, request.attachments ?? []);
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
          { idempotencyKey: request.idempotencyKey },
        );
        return { id: sent.id, messageId: sent.messageId, deliveryStatus: sent.deliveryStatus };
      } catch (error) {
        if (!(error instanceof PecTrackError)) throw final('PEC_SEND_FAILED', error);
        const field = error.details?.field;
        throw final(error.code, error, typeof field === 'string' ? field : undefined);
      }
    },
  });
}

async function readAttachments(
  blobs: BlobStore,
  references: NonNullable<PecSendRequest['attachments']>,
): Promise<OutgoingAttachment[]> {
  return Promise.all(
    references.map(async (reference, index) => {
      try {
        return {
          filename: reference.filename,
          contentType: reference.contentType,
          content: await blobs.read(reference.blob),
        };
      } catch (error) {
        if (error instanceof BlobNotFoundError)
          throw final('ATTACHMENT_MISSING', error, `attachments.${index}.blob`);
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
