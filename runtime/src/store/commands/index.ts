import type { Knex } from '@mikro-orm/knex';
import type { DatabaseConfig } from '../../config.js';
import { Batcher } from './group-commit.js';
import { PostgresCommandStore } from './postgres-command-store.js';
import type { CommandStore, CommitOutcome, InstanceChange, InstanceRecord } from './records.js';
import { SqliteCommandStore } from './sqlite-command-store.js';

export * from './records.js';

export function createCommandStore(database: DatabaseConfig, knex: Knex): CommandStore {
  return database.kind === 'postgresql'
    ? new PostgresCommandStore(knex)
    : new SqliteCommandStore(knex);
}

/**
 * The command store behind group commit: loads and commits of concurrent commands share a
 * trip. `inFlight` is how many batches may run at once (SQLite has one writer).
 */
export function batched(store: CommandStore, inFlight = 1): CommandStore {
  const loads = new Batcher<string, InstanceRecord | undefined>(async (ids) => {
    const found = await store.loadInstances([...new Set(ids)]);
    return ids.map((id) => found.get(id));
  }, inFlight);
  const commits = new Batcher<InstanceChange, CommitOutcome>(
    (changes) => store.commit(changes),
    inFlight,
  );
  return {
    async loadInstances(ids) {
      const rows = await Promise.all(ids.map((id) => loads.submit(id)));
      return new Map(
        rows.filter((r): r is InstanceRecord => r !== undefined).map((r) => [r.id, r]),
      );
    },
    commit: (changes) => Promise.all(changes.map((c) => commits.submit(c))),
  };
}
