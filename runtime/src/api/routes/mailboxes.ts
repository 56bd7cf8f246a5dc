/** /api/v1/mailboxes: PEC mailbox configuration, health, connection test, sync now, sending. */
import { z } from 'zod';
import type { Intake } from '../../intake/index.js';
import { BadRequestError, ConflictError } from '../../errors.js';
import { FileBytesMissingError } from '../../intake/files.js';
import { MailboxInput, MailboxPatch } from '../../intake/mailboxes.js';
import { DELIVERY_STATUSES } from '../../store/entities/message.js';
import { endpoint, type Endpoint } from '../endpoint.js';
import { IdParams } from '../schemas.js';

const Server = z.object({
  host: z.string(),
  port: z.number().int(),
  tls: z.boolean(),
  /** With tls false: the login goes in clear when the server offers no STARTTLS. */
  allowPlaintext: z.boolean(),
});

const MailboxHealth = z.object({
  status: z.enum(['unknown', 'ok', 'failing', 'auth-failed', 'disabled']),
  lastError: z.string().nullable(),
  consecutiveFailures: z.number().int(),
  lastSyncAt: z.string().nullable(),
  folders: z.array(
    z.object({
      folder: z.string(),
      uidValidity: z.string(),
      lastUid: z.number().int(),
      updatedAt: z.string(),
      withheld: z
        .object({ uid: z.number().int(), passes: z.number().int(), since: z.string() })
        .nullable()
        .describe(
          'The message the folder is held at: listed by the server, never returned whole; recorded without its content after some passes',
        ),
    }),
  ),
  folderProblems: z.array(z.object({ folder: z.string(), reason: z.string() })),
  sending: z
    .object({ submittedLastMinute: z.number().int(), waiting: z.number().int() })
    .nullable(),
  unparseable: z.number().int(),
});

const MailboxView = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  imap: Server,
  username: z.string(),
  folders: z.array(z.string()),
  smtp: Server.extend({ maxPerMinute: z.number().int().nullable() }).nullable(),
  flagKeyword: z.string().nullable(),
  enabled: z.boolean(),
  health: MailboxHealth,
  createdAt: z.string(),
  updatedAt: z.string(),
});

const ConnectionTest = z.object({
  ok: z.boolean(),
  authenticationFailed: z.boolean(),
  error: z.string().nullable(),
  capabilities: z.array(z.string()),
  folders: z.array(z.object({ folder: z.string(), exists: z.boolean() })),
  /** The SMTP login, tried beside (nothing sent); null for a mailbox without SMTP. */
  smtp: z.object({ ok: z.boolean(), error: z.string().nullable() }).nullable(),
});

const DeliveryStatus = z.enum(DELIVERY_STATUSES);

const SendBody = z.object({
  to: z.array(z.email()).min(1).max(100),
  cc: z.array(z.email()).max(100).optional(),
  subject: z.string().min(1).max(998),
  text: z.string().max(5 * 1024 * 1024),
  html: z
    .string()
    .max(5 * 1024 * 1024)
    .optional(),
  attachments: z
    .array(
      z.union([
        z
          .object({
            filename: z.string().min(1).max(255),
            contentType: z.string().max(255).optional(),
            // As an empty upload is refused: no bytes is nothing to attach (a client's bug).
            contentBase64: z
              .base64()
              .min(1, 'is empty: an attachment of no bytes is nothing to attach'),
          })
          .strict(),
        // A file uploaded first (POST /files): how a file of more than a few hundred KB goes.
        z
          .object({
            fileId: z.string().min(1).max(64),
            filename: z.string().min(1).max(255).optional(),
            contentType: z.string().max(255).optional(),
          })
          .strict(),
      ]),
    )
    .max(50)
    .optional(),
  receiptType: z.enum(['completa', 'breve', 'sintetica']).optional(),
});

/**
 * The draft IETF Idempotency-Key header: a structured-field string (quoted) or, as most clients
 * send it, the bare value. Printable ASCII, so it can be echoed in a problem's detail.
 */
const SendHeaders = z.object({
  'idempotency-key': z
    .string()
    .transform((value) => (/^".*"$/.test(value) ? value.slice(1, -1) : value))
    .pipe(
      z
        .string()
        .regex(/^[\x21-\x7e]{1,200}$/, '1 to 200 printable ASCII characters, without spaces'),
    )
    .optional()
    .describe(
      'Makes the send safe to repeat: a repeat with the same key and body answers the message already sent (Idempotent-Replayed: true) without certifying another; the same key with another body is refused (422 idempotency-key-reused); a repeat while the first is still being submitted is told to ask again (409 send-in-progress, Retry-After).',
    ),
});

type AttachmentItem = NonNullable<z.output<typeof SendBody>['attachments']>[number];

/** Each attachment's bytes: carried in the body, or an uploaded file's (400 naming a missing one). */
async function attachmentsOf(intake: Intake, tenantId: string, items: AttachmentItem[]) {
  return Promise.all(
    items.map(async (item, index) => {
      if ('contentBase64' in item)
        return {
          filename: item.filename,
          contentType: item.contentType,
          content: Buffer.from(item.contentBase64, 'base64'),
        };
      const uploaded = await intake.files.content(tenantId, item.fileId).catch((error: unknown) => {
        if (!(error instanceof FileBytesMissingError)) throw error;
        throw new ConflictError(`attachments.${index}.fileId: ${error.message}`, {
          field: `attachments.${index}.fileId`,
        });
      });
      if (!uploaded)
        throw new BadRequestError(
          'file-not-found',
          `attachments.${index}.fileId: no file ${item.fileId} was uploaded (POST /api/v1/files)`,
          { field: `attachments.${index}.fileId` },
        );
      return {
        filename: item.filename ?? uploaded.file.filename,
        contentType: item.contentType ?? uploaded.file.contentType,
        content: uploaded.content,
      };
    }),
  );
}

/** API keys live apart from the keys process tasks derive, so neither can take the other's message. */
const API_KEY_PREFIX = 'api:';

const SentMessage = z.object({
  id: z.string(),
  messageId: z.string(),
  deliveryStatus: DeliveryStatus,
  recipients: z.array(z.object({ address: z.string(), status: DeliveryStatus })),
});

export function mailboxEndpoints(intake: Intake): Endpoint[] {
  const json = (description: string, schema: z.ZodType, status = 200) => ({
    status,
    description,
    contentType: 'application/json',
    schema,
  });
  return [
    endpoint(
      {
        method: 'get',
        path: '/mailboxes',
        operationId: 'listMailboxes',
        summary: 'The PEC mailboxes watched, with their health',
        permission: 'mailboxes:read',
        success: json('Mailboxes', z.array(MailboxView)),
      },
      async ({ actor }) => intake.mailboxes.list(actor.tenantId),
    ),
    endpoint(
      {
        method: 'post',
        path: '/mailboxes',
        operationId: 'createMailbox',
        summary:
          'Add a PEC mailbox and start watching it (the password is stored encrypted, never returned)',
        permission: 'mailboxes:manage',
        body: MailboxInput,
        success: json('Created', MailboxView, 201),
      },
      async ({ actor, body }) => intake.createMailbox(actor.tenantId, body),
    ),
    endpoint(
      {
        method: 'get',
        path: '/mailboxes/:id',
        operationId: 'getMailbox',
        summary: 'One mailbox',
        permission: 'mailboxes:read',
        params: IdParams,
        success: json('Mailbox', MailboxView),
      },
      async ({ actor, params }) => intake.mailboxes.get(actor.tenantId, params.id),
    ),
    endpoint(
      {
        method: 'put',
        path: '/mailboxes/:id',
        operationId: 'updateMailbox',
        summary:
          'Change a mailbox (fields left out keep their value, smtp.maxPerMinute too unless null); new credentials reset its health (the same ones sent again do not), a new account or server is read from its first message, and a new IMAP or SMTP host needs the password given again (400 password-required)',
        permission: 'mailboxes:manage',
        params: IdParams,
        body: MailboxPatch,
        success: json('Updated', MailboxView),
      },
      async ({ actor, params, body }) => intake.updateMailbox(actor.tenantId, params.id, body),
    ),
    endpoint(
      {
        method: 'delete',
        path: '/mailboxes/:id',
        operationId: 'deleteMailbox',
        summary: 'Stop watching a mailbox and forget its configuration; its messages stay',
        permission: 'mailboxes:manage',
        params: IdParams,
        success: { status: 204, description: 'Deleted' },
      },
      async ({ actor, params }) => {
        await intake.deleteMailbox(actor.tenantId, params.id);
        return undefined;
      },
    ),
    endpoint(
      {
        method: 'post',
        path: '/mailboxes/:id/test',
        operationId: 'testMailbox',
        summary:
          'Log in to the mailbox and look for its folders, reading nothing, and to its SMTP server, sending nothing (`smtp`); an IMAP login that works lets a mailbox stopped by a refused one sync again',
        permission: 'mailboxes:manage',
        params: IdParams,
        success: json('Outcome of the connection test', ConnectionTest),
      },
      // Through the intake: a test that logs in lets a mailbox whose login was refused sync again.
      async ({ actor, params }) => intake.testConnection(actor.tenantId, params.id),
    ),
    endpoint(
      {
        method: 'get',
        path: '/mailboxes/:id/health',
        operationId: 'getMailboxHealth',
        summary: 'Sync health and per-folder checkpoints',
        permission: 'mailboxes:read',
        params: IdParams,
        success: json('Health', MailboxHealth),
      },
      async ({ actor, params }) => intake.mailboxes.health(actor.tenantId, params.id),
    ),
    endpoint(
      {
        method: 'post',
        path: '/mailboxes/:id/sync',
        operationId: 'syncMailbox',
        summary:
          'Sync the mailbox now; after a refused login, try it once more (409 mailbox-disabled when it is switched off)',
        permission: 'mailboxes:manage',
        params: IdParams,
        success: json('Sync requested', z.object({ scheduled: z.boolean() }), 202),
      },
      async ({ actor, params }) => intake.syncNow(actor.tenantId, params.id),
    ),
    endpoint(
      {
        method: 'post',
        path: '/mailboxes/:id/send',
        operationId: 'sendPec',
        summary:
          "Send a certified message through the mailbox's SMTP; receipts then move its delivery state",
        permission: 'pec:send',
        params: IdParams,
        headers: SendHeaders,
        body: SendBody,
        success: json(
          'Submitted (or, repeated under its Idempotency-Key, already submitted)',
          SentMessage,
          201,
        ),
      },
      async ({ ctx, actor, params, body, headers }) => {
        const key = headers['idempotency-key'];
        const { replayed, ...sent } = await intake.outgoing.send(
          actor.tenantId,
          params.id,
          {
            ...body,
            attachments: await attachmentsOf(intake, actor.tenantId, body.attachments ?? []),
          },
          key === undefined ? {} : { idempotencyKey: API_KEY_PREFIX + key },
        );
        if (replayed) ctx.set('Idempotent-Replayed', 'true');
        return sent;
      },
    ),
  ];
}
