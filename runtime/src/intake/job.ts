/**
 * Mailbox sync as an Agenda job (ARCHITECTURE §2): one job document per mailbox, so Agenda's
 * lock on it is the cluster-wide "one worker per mailbox". A run is a watching session of
 * bounded length; the job repeats at the same interval, so a mailbox is watched continuously
 * and a crashed worker's mailbox is picked up once its lock expires.
 */
import type { Agenda, Job } from 'agenda';
import { knexOf } from '../store/orm.js';
import type { IntakeContext } from './context.js';
import { runMailboxSession, Wakeup } from './session.js';
import { watchSyncRequests } from './sync-request.js';

export const MAILBOX_SYNC_JOB = 'mailbox-sync';

export interface MailboxSyncJobData {
  tenantId: string;
  mailboxId: string;
}

export interface MailboxSyncSettings {
  /** How long one run watches its mailbox before handing the lock back. */
  sessionMs: number;
  /** How often a session looks for a "sync now" asked on another node (sync-request.ts). */
  syncRequestCheckMs?: number;
}

export const DEFAULT_SYNC_SETTINGS: MailboxSyncSettings = { sessionMs: 5 * 60_000 };
const DEFAULT_SYNC_REQUEST_CHECK_MS = 5_000;

export class MailboxSyncJobs {
  /** The session this process runs for each mailbox: how to wake it, end it, and when it has ended. */
  private readonly running = new Map<
    string,
    { wakeup: Wakeup; controller: AbortController; ended: Promise<void> }
  >();
  private readonly lockLifetimeMs: number;
  /** Set by stop(): this process hands its mailboxes to the other nodes and takes none. */
  private stopping = false;

  constructor(
    private readonly agenda: Agenda,
    private readonly ctx: IntakeContext,
    private readonly settings: MailboxSyncSettings = DEFAULT_SYNC_SETTINGS,
  ) {
    this.lockLifetimeMs = settings.sessionMs + 60_000;
    agenda.define<MailboxSyncJobData>(MAILBOX_SYNC_JOB, (job) => this.run(job), {
      lockLifetime: this.lockLifetimeMs,
      // Each mailbox is its own job document: this bounds how many one process watches at once.
      concurrency: 100,
    });
  }

  /**
   * Starts watching a mailbox now and keeps watching it (idempotent: one job per mailbox). A
   * session this process already runs is woken, so it reads the mailbox's new configuration
   * at once rather than at its next poll.
   */
  async watch(data: MailboxSyncJobData): Promise<void> {
    await this.oneAtATime(data.mailboxId, () =>
      this.agenda
        .create(MAILBOX_SYNC_JOB, data)
        .unique({ 'data.mailboxId': data.mailboxId })
        .repeatEvery(this.settings.sessionMs)
        .schedule(new Date())
        .save(),
    );
    this.running.get(data.mailboxId)?.wakeup.wake();
  }

  /**
   * Runs `save` while holding a cluster-wide lock on the mailbox. On PostgreSQL Agenda's `unique`
   * looks for the job and inserts it in two statements with no constraint behind them, so two
   * nodes enabling one mailbox at once would both insert: two jobs, two sessions for good. The
   * advisory lock lives in a transaction of our own; Agenda saves on its own connection and
   * commits before ours ends, so the second caller finds the first one's job. SQLite needs none:
   * its job repository looks and inserts in one synchronous step of a single process.
   */
  private async oneAtATime(mailboxId: string, save: () => Promise<unknown>): Promise<void> {
    const knex = knexOf(this.ctx.orm);
    if (knex.client.dialect !== 'postgresql') {
      await save();
      return;
    }
    await knex.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [
        `${MAILBOX_SYNC_JOB}:${mailboxId}`,
      ]);
      await save();
    });
  }

  /**
   * Stops watching; a session this process runs ends (its current batch still commits). Woken
   * only, it would end at its next look at the mailbox, and a mailbox enabled again meanwhile
   * (switched off and straight back on) would find it still watching beside the new job's run.
   */
  async unwatch(mailboxId: string): Promise<void> {
    await this.agenda.cancel({ name: MAILBOX_SYNC_JOB, data: { mailboxId } });
    this.running.get(mailboxId)?.controller.abort();
  }

  /** "Sync now": wakes the session this process runs, or brings the job's next run forward. */
  async syncNow(data: MailboxSyncJobData): Promise<void> {
    const wakeup = this.running.get(data.mailboxId)?.wakeup;
    if (wakeup) wakeup.wake();
    else await this.watch(data);
  }

  /**
   * Ends the sessions this process runs (their current batch still commits), leaving their jobs
   * due at once for the other nodes, and waits for them up to `graceMs`: the parse pool and the
   * database close after this, and a session still parsing must see its batch fail, not record
   * messages nobody read. A session that outlasts the grace is left to fail against the closed
   * pool, which commits nothing past its checkpoint.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const sessions = [...this.running.values()];
    for (const { controller } of sessions) controller.abort();
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(sessions.map(({ ended }) => ended)),
      new Promise((resolve) => (grace = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(grace);
  }

  private async run(job: Job<MailboxSyncJobData>): Promise<void> {
    const { tenantId, mailboxId } = job.attrs.data;
    // One session per mailbox in this process: one still ending hands over before this starts.
    const earlier = this.running.get(mailboxId);
    if (earlier) {
      earlier.controller.abort();
      await earlier.ended;
    }
    if (this.stopping) {
      handOver(job);
      return;
    }
    const wakeup = new Wakeup();
    const controller = new AbortController();
    let ended: () => void = () => undefined;
    this.running.set(mailboxId, { wakeup, controller, ended: new Promise((r) => (ended = r)) });
    const end = setTimeout(() => controller.abort(), this.settings.sessionMs);
    const keepLock = setInterval(() => job.touch().catch(() => undefined), this.lockLifetimeMs / 3);
    const requests = watchSyncRequests(
      this.ctx,
      tenantId,
      mailboxId,
      wakeup,
      this.settings.syncRequestCheckMs ?? DEFAULT_SYNC_REQUEST_CHECK_MS,
    );
    try {
      await runMailboxSession(this.ctx, tenantId, mailboxId, { signal: controller.signal, wakeup });
    } finally {
      clearTimeout(end);
      clearInterval(keepLock);
      requests.stop();
      if (this.running.get(mailboxId)?.controller === controller) this.running.delete(mailboxId);
      if (this.stopping) handOver(job);
      ended();
    }
  }
}

/**
 * Makes the job due now. Agenda set its next run at the start of this run, to the end of a full
 * session: a session cut short by the process stopping would leave its mailbox unwatched until
 * then.
 */
function handOver(job: Job<MailboxSyncJobData>): void {
  job.attrs.nextRunAt = new Date();
}
