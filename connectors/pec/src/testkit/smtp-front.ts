/**
 * The test provider's SMTP front: what a PEC provider does with a submission, played against
 * a real IMAP server. It accepts an authenticated submission from one of its mailboxes,
 * answers with an accettazione in the sender's mailbox, appends the transport envelope to each
 * recipient's mailbox and the avvenuta-consegna (or errore-consegna / preavviso) to the
 * sender's. Faults can be switched on to play the provider's bad days.
 */
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { ImapFlow } from 'imapflow';
import type { Readable } from 'node:stream';
import { buildAnomalyEnvelope, buildTransportEnvelope } from './envelope.js';
import type { TestProvider } from './provider.js';
import { buildReceipt, type ReceiptKind } from './receipts.js';
import { prepareSubmission, type Submission } from './submission.js';
import { PROVIDER_LIMIT_BYTES } from '../send/compose.js';

export interface SmtpFrontFaults {
  /** Milliseconds between acceptance and delivery (and its receipts). */
  delayMs: number;
  /** Recipients are not delivered to: the sender gets errore-consegna for each. */
  nonDelivery: boolean;
  /**
   * Delivery does not happen in time and nothing is delivered: the sender gets this many
   * preavviso-errore-consegna per recipient (1: the 12-hour warning, the delivery still pending;
   * 2: the 24-hour one too, which means failure). 0: none.
   */
  timeoutWarnings: number;
  /**
   * The provider takes the message (receipts follow as usual) but answers the submission with
   * a temporary error: a provider that says "not taken, try later" (RFC 5321) and took it all
   * the same, the worst case of an answer gone wrong. A client that trusts the answer sends it
   * again.
   */
  failAfterAccepting: boolean;
  /**
   * The next this many submissions are refused with `421 4.7.0` at MAIL FROM and nothing of them
   * is taken, as a provider that throttles sending (InfoCert: 6 messages a minute) answers.
   * Counts down as they come.
   */
  busy: number;
  /** The submission carries a virus: non-accettazione per virus, nothing is delivered. */
  virus: boolean;
  /** Recipients get an anomaly envelope (X-Trasporto: errore) instead of the transport envelope. */
  anomaly: boolean;
  /**
   * These addresses are refused at RCPT TO with `550 5.1.1`, as a provider refuses an address
   * of a domain that does not exist: nothing is taken for them.
   */
  refuseRecipients: string[];
}

export const NO_FAULTS: SmtpFrontFaults = {
  delayMs: 0,
  nonDelivery: false,
  timeoutWarnings: 0,
  failAfterAccepting: false,
  busy: 0,
  virus: false,
  anomaly: false,
  refuseRecipients: [],
};

export interface SmtpFrontOptions {
  provider: TestProvider;
  /** The IMAP server holding the provider's mailboxes. */
  imap: { host: string; port: number; secure?: boolean };
  /** The provider's mailboxes: address (also the SMTP and IMAP login) → password. */
  mailboxes: Record<string, string>;
  faults?: Partial<SmtpFrontFaults>;
  /**
   * Domains of ordinary (non-PEC) mail: their recipients are listed `esterno` in daticert, get
   * no envelope from this provider and produce no delivery receipt.
   */
  externalDomains?: string[];
  /** Folder receipts and envelopes are appended to. */
  folder?: string;
  /**
   * Offers STARTTLS with this key and certificate (PEM). Without it STARTTLS is not offered at
   * all, so a client can only talk in clear.
   */
  starttls?: { key: string; cert: string };
}

export interface ProcessedSubmission {
  submission: Submission;
  /** What went where: `<kind> → <mailbox>` lines, in order. */
  deliveries: string[];
}

export interface SmtpFront {
  readonly host: string;
  readonly port: number;
  faults: SmtpFrontFaults;
  /** Every submission handled so far, once all its deliveries are done. */
  readonly processed: ProcessedSubmission[];
  /** Deliveries that failed (the IMAP server refused an append): a test should expect none. */
  readonly failures: Error[];
  /**
   * AUTH attempts made over a connection not (yet) protected by TLS: each one put the
   * password on the wire in clear. A client that requires STARTTLS keeps this at 0.
   */
  readonly plaintextLogins: number;
  /** Resolves when every accepted submission has finished delivering. */
  settled(): Promise<void>;
  /**
   * From now on the answer to each submission waits until the returned function is called,
   * while the message is taken and its receipts follow as usual: a provider whose receipts
   * arrive before its answer to the client.
   */
  holdAnswers(): () => void;
  close(): Promise<void>;
}

export class SmtpFrontError extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpFrontError';
  }
}

export async function startSmtpFront(options: SmtpFrontOptions): Promise<SmtpFront> {
  const folder = options.folder ?? 'INBOX';
  const mailboxes = new Map(
    Object.entries(options.mailboxes).map(([address, password]) => [
      address.toLowerCase(),
      password,
    ]),
  );
  const pending = new Set<Promise<void>>();
  const processed: ProcessedSubmission[] = [];
  const failures: Error[] = [];
  let faults: SmtpFrontFaults = { ...NO_FAULTS, ...options.faults };
  let answersHeld: Promise<void> | null = null;
  let plaintextLogins = 0;

  const append = async (address: string, raw: Buffer) => {
    const client = new ImapFlow({
      host: options.imap.host,
      port: options.imap.port,
      secure: options.imap.secure ?? false,
      // The provider's own back office: in clear on the loopback even when the IMAP server
      // offers STARTTLS to clients, whose test CA this link would otherwise have to trust.
      doSTARTTLS: false,
      auth: { user: address, pass: mailboxes.get(address) ?? '' },
      logger: false,
    });
    await client.connect();
    try {
      await client.append(folder, raw);
    } finally {
      await client.logout();
    }
  };

  const externalDomains = new Set((options.externalDomains ?? []).map((d) => d.toLowerCase()));
  const isExternal = (address: string) =>
    !mailboxes.has(address) && externalDomains.has(address.split('@')[1] ?? '');

  const handle = async (raw: Buffer, sender: string, recipients: string[]) => {
    const active = faults;
    const submission = prepareSubmission({
      provider: options.provider,
      message: raw,
      recipients: recipients.map((address) => ({
        address,
        tipo: isExternal(address) ? 'esterno' : 'certificato',
      })),
    });
    const deliveries: string[] = [];
    const receipt = async (
      kind: ReceiptKind,
      extra: {
        recipient?: string;
        virus?: boolean;
        errore?: 'no-dest' | 'altro';
        erroreEsteso?: string;
        date?: Date;
      } = {},
    ) => {
      await append(
        sender,
        buildReceipt({ provider: options.provider, submission, kind, ...extra }),
      );
      deliveries.push(`${kind} → ${sender}`);
    };
    if (active.virus) {
      await receipt('non-accettazione', { virus: true });
    } else if (raw.length * recipients.length > PROVIDER_LIMIT_BYTES) {
      // docs/pec.md: "Size limit at the provider: 30 MB (size × recipients)". Not accepted,
      // and said so in a non-accettazione, as the virus case: nothing is delivered.
      await receipt('non-accettazione', {
        errore: 'altro',
        erroreEsteso: `messaggio di ${raw.length} byte per ${recipients.length} destinatari: supera il limite di ${PROVIDER_LIMIT_BYTES} byte (dimensione × destinatari)`,
      });
    } else {
      await receipt('accettazione');
      if (active.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, active.delayMs));
      for (const recipient of recipients) {
        if (isExternal(recipient)) {
          // Handed to ordinary mail: nothing certifies what happens next.
          deliveries.push(`posta-ordinaria → ${recipient}`);
        } else if (active.timeoutWarnings > 0) {
          // The 12- and 24-hour warnings, dated as a provider would send them (distinct ids).
          for (let n = 1; n <= Math.min(2, active.timeoutWarnings); n++)
            await receipt('preavviso-errore-consegna', {
              recipient,
              date: new Date(submission.date.getTime() + n * 12 * 3600_000),
            });
        } else if (active.nonDelivery || !mailboxes.has(recipient)) {
          await receipt('errore-consegna', { recipient, errore: 'no-dest' });
        } else {
          const envelope = active.anomaly
            ? buildAnomalyEnvelope({
                provider: options.provider,
                message: raw,
                recipients: [{ address: recipient }],
              })
            : buildTransportEnvelope({ provider: options.provider, submission });
          await append(recipient, envelope);
          deliveries.push(`${active.anomaly ? 'anomalia' : 'posta-certificata'} → ${recipient}`);
          await receipt('avvenuta-consegna', { recipient });
        }
      }
    }
    processed.push({ submission, deliveries });
  };

  const server = new SMTPServer({
    ...tlsOptions(options.starttls),
    // AUTH stays allowed in clear even next to STARTTLS: plaintextLogins is how a test sees it.
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, session, callback) {
      if (!session.secure) plaintextLogins += 1;
      const address = (auth.username ?? '').toLowerCase();
      if (mailboxes.get(address) !== auth.password)
        return callback(new SmtpFrontError(535, '5.7.8 Authentication credentials invalid'));
      callback(null, { user: address });
    },
    // A PEC provider only accepts mail its authenticated user sends from their own address.
    onMailFrom(address, session, callback) {
      if (faults.busy > 0) {
        faults.busy -= 1;
        return callback(
          new SmtpFrontError(421, '4.7.0 Too many messages from this mailbox, try again later'),
        );
      }
      if (address.address.toLowerCase() !== session.user) {
        return callback(
          new SmtpFrontError(
            553,
            `5.7.1 Sender ${address.address} is not the authenticated mailbox ${String(session.user)}`,
          ),
        );
      }
      callback();
    },
    onRcptTo(address, session, callback) {
      const refused = faults.refuseRecipients.map((a) => a.toLowerCase());
      if (refused.includes(address.address.toLowerCase()))
        return callback(
          new SmtpFrontError(550, `5.1.1 Recipient ${address.address} does not exist`),
        );
      callback();
    },
    onData(stream: Readable, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const sender = String(session.user);
        const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const job = handle(Buffer.concat(chunks), sender, recipients)
          .catch((error: Error) => void failures.push(error))
          .finally(() => pending.delete(job));
        pending.add(job);
        const failAfterAccepting = faults.failAfterAccepting;
        const answer = () =>
          failAfterAccepting
            ? callback(new SmtpFrontError(451, '4.3.0 Temporary failure, please retry'))
            : callback(null, 'Message accepted by the test provider');
        if (answersHeld) void answersHeld.then(answer);
        else answer();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    host: '127.0.0.1',
    port,
    get faults() {
      return faults;
    },
    set faults(value) {
      faults = { ...NO_FAULTS, ...value };
    },
    processed,
    failures,
    get plaintextLogins() {
      return plaintextLogins;
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    holdAnswers() {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      answersHeld = held;
      return () => {
        if (answersHeld === held) answersHeld = null;
        release();
      };
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...pending]);
    },
  };
}

/** Plain SMTP, upgraded by STARTTLS only when a key and certificate are given. */
function tlsOptions(starttls: SmtpFrontOptions['starttls']): SMTPServerOptions {
  if (!starttls) return { secure: false, disabledCommands: ['STARTTLS'] };
  return { secure: false, key: starttls.key, cert: starttls.cert };
}
