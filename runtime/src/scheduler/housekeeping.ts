/**
 * Hourly clean-up of what only matters for a while: delivered outbox rows, and finished
 * connector jobs (kept so that a re-drain of their outbox row cannot call twice — once
 * the row is done, long past its lease, nothing can re-drain it). Every minute, buffered
 * BPMN messages a crash left half-delivered are delivered and expired ones deleted.
 */
import type { Agenda } from 'agenda';
import type { InternalCommands } from '../services/index.js';
import { knexOf, type Orm } from '../store/orm.js';
import { CONNECTOR_JOB } from './jobs.js';

export const HOUSEKEEPING_JOB = 'pectrack.housekeeping';
export const MESSAGE_BUFFER_JOB = 'pectrack.message-buffer';

export async function sweep(orm: Orm, olderThan: Date): Promise<{ outbox: number; jobs: number }> {
  const knex = knexOf(orm);
  const cutoff = orm.em.getPlatform().processDateProperty(olderThan);
  const outbox = await knex('outbox')
    .where({ status: 'done' })
    .andWhere('done_at', '<', cutoff)
    .del();
  const jobs = await knex('agenda_jobs')
    .where({ name: CONNECTOR_JOB })
    .whereNull('next_run_at')
    .whereNull('locked_at')
    .andWhere('last_finished_at', '<', cutoff)
    .del();
  return { outbox, jobs };
}

export async function scheduleHousekeeping(
  agenda: Agenda,
  orm: Orm,
  internal: InternalCommands,
  retentionMs: number,
): Promise<void> {
  agenda.define(HOUSEKEEPING_JOB, async () => {
    await sweep(orm, new Date(Date.now() - retentionMs));
  });
  agenda.define(MESSAGE_BUFFER_JOB, async () => {
    await internal.redeliverBufferedMessages();
  });
  await agenda.every('1 hour', HOUSEKEEPING_JOB);
  await agenda.every('1 minute', MESSAGE_BUFFER_JOB);
}
