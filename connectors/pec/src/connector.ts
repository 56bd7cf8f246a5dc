/**
 * The PEC connector: action `send` certifies a message through one of the host's mailboxes.
 * Sending itself belongs to the host (the runtime's intake records the outgoing Message before
 * submission so every receipt finds it), so this definition validates the request and hands it
 * to the host's `PecOutbox`; the connector never imports the runtime.
 */
import { ConnectorError, defineConnector, type Connector } from '@pectrack/connector-sdk';
import { z } from 'zod';

export const PEC_CONNECTOR_TYPE = 'pectrack:pec';

const Addresses = z
  .union([z.email(), z.array(z.email()).min(1).max(100)])
  .transform((value) => (Array.isArray(value) ? value : [value]));

/**
 * An optional field a process mapped to nothing: a FEEL expression over a variable not set
 * gives null, a list of copies computed empty gives []. Neither is a bad input: the field is
 * left out, as the template's `optional: true` says.
 */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) => (value === null || (Array.isArray(value) && value.length === 0) ? undefined : value),
    schema.optional(),
  );

/** A file the host already stores (e.g. an uploaded document), referred to by its SHA-256. */
const AttachmentReference = z.object({
  filename: z.string().min(1).max(255),
  contentType: z.string().max(255).optional(),
  blob: z.string().regex(/^[0-9a-f]{64}$/, 'must be the SHA-256 (hex) of a stored file'),
});

/**
 * Strict: a field the send does not honour (bcc, html) is refused by name, never dropped while
 * the message goes out without it.
 */
export const PecSendInput = z.strictObject({
  /** The sending mailbox; defaults to the connector config's `mailboxId`. */
  mailboxId: unsetWhenEmpty(z.string().min(1)),
  to: Addresses,
  cc: unsetWhenEmpty(Addresses),
  subject: z.string().min(1).max(998),
  text: z.string().max(5 * 1024 * 1024),
  attachments: unsetWhenEmpty(z.array(AttachmentReference).max(50)),
  receiptType: unsetWhenEmpty(z.enum(['completa', 'breve', 'sintetica'])),
});

export type PecSendRequest = Omit<z.output<typeof PecSendInput>, 'mailboxId'> & {
  mailboxId: string;
  tenantId: string;
  /** Same across retries of one task's call: the host may use it to send once. */
  idempotencyKey: string;
};

export interface PecSendResult {
  /** The host's id of the outgoing message. */
  id: string;
  /** The Message-ID every receipt will refer to. */
  messageId: string;
  deliveryStatus: string;
}

/** What the host provides: certified sending with its own bookkeeping. */
export interface PecOutbox {
  send(request: PecSendRequest, signal: AbortSignal): Promise<PecSendResult>;
}

const PecConfig = z.object({
  /** The mailbox a task sends from when its input names none. */
  mailboxId: z.string().min(1).optional(),
});

export function createPecConnector(outbox: PecOutbox): Connector {
  const connector = defineConnector({
    type: PEC_CONNECTOR_TYPE,
    version: '1.0.0',
    configSchema: PecConfig,
    templates: [PEC_SEND_TEMPLATE],
    actions: {
      send: {
        description: 'Send a certified message (PEC) from a configured mailbox',
        inputSchema: PecSendInput,
        async run(input, { config, signal, call, logger }) {
          const mailboxId = input.mailboxId ?? config.mailboxId;
          if (!mailboxId)
            throw new ConnectorError(
              'MAILBOX_MISSING',
              'mailboxId: set it on the task or in the connector config',
            );
          if (!call)
            throw new ConnectorError('CALL_MISSING', 'pectrack:pec sends only from a process task');
          const sent = await outbox.send(
            { ...input, mailboxId, tenantId: call.tenantId, idempotencyKey: call.idempotencyKey },
            signal,
          );
          logger.info({ messageId: sent.messageId, mailboxId }, 'PEC submitted');
          return { ...sent };
        },
      },
    },
  });
  return connector as unknown as Connector;
}

const PEC_SEND_TEMPLATE = {
  name: 'Send PEC',
  id: 'pectrack.pec.send',
  version: 1,
  description: 'Sends a certified e-mail; its receipts are matched to the outgoing message',
  appliesTo: ['bpmn:SendTask', 'bpmn:ServiceTask'],
  groups: [
    { id: 'message', label: 'Message' },
    { id: 'result', label: 'Result' },
  ],
  properties: [
    {
      type: 'Hidden',
      value: PEC_CONNECTOR_TYPE,
      binding: { type: 'pectrack:connector', property: 'type' },
    },
    {
      label: 'Mailbox id',
      description: 'Empty: the mailbox of the connector configuration',
      type: 'String',
      group: 'message',
      optional: true,
      binding: { type: 'pectrack:input', name: 'mailboxId' },
    },
    {
      label: 'To',
      description: 'A PEC address or a list of them',
      type: 'String',
      group: 'message',
      feel: 'optional',
      constraints: { notEmpty: true },
      binding: { type: 'pectrack:input', name: 'to' },
    },
    {
      label: 'Cc',
      type: 'String',
      group: 'message',
      feel: 'optional',
      optional: true,
      binding: { type: 'pectrack:input', name: 'cc' },
    },
    {
      label: 'Subject',
      type: 'String',
      group: 'message',
      feel: 'optional',
      constraints: { notEmpty: true },
      binding: { type: 'pectrack:input', name: 'subject' },
    },
    {
      label: 'Text',
      type: 'Text',
      group: 'message',
      feel: 'optional',
      binding: { type: 'pectrack:input', name: 'text' },
    },
    {
      label: 'Attachments',
      description:
        'A list of {filename, contentType, blob}: blob is the SHA-256 of a file uploaded with POST /api/v1/files',
      type: 'String',
      group: 'message',
      feel: 'required',
      optional: true,
      binding: { type: 'pectrack:input', name: 'attachments' },
    },
    {
      label: 'Receipt type',
      description:
        'What the delivery receipt carries: completa, the whole message; breve, the attachments as hashes; sintetica, no copy',
      type: 'Dropdown',
      group: 'message',
      value: 'completa',
      choices: ['completa', 'breve', 'sintetica'].map((kind) => ({ name: kind, value: kind })),
      binding: { type: 'pectrack:input', name: 'receiptType' },
    },
    {
      label: 'Message-ID variable',
      description:
        'Receives the Message-ID receipts will refer to. Wait for them with a receive task on the message "pec.receipt" keyed by this variable: each receipt comes once, oldest first, even if it arrived before the wait',
      type: 'String',
      group: 'result',
      optional: true,
      binding: { type: 'pectrack:output', source: 'messageId' },
    },
  ],
} satisfies Connector['templates'][number];
