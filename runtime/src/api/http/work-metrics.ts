/**
 * The gauges an operator alerts on, read from the database at each scrape: work the outbox could
 * not hand on (a `failed` entry: its instance waits for a timer or a call that will never come,
 * and no incident says so), open incidents, mailboxes by health (a refused login waits for new
 * credentials). Each is a grouped count over indexed columns of a few rows.
 */
import type { Knex } from '@mikro-orm/knex';
import { Gauge, type Registry } from 'prom-client';

type Count = { n: number | string };

export function registerWorkMetrics(registry: Registry, knex: Knex): void {
  countedGauge(registry, {
    name: 'pectrack_outbox_entries',
    help: 'Outbox entries not yet handed on, by kind and status (failed: given up, needs a person)',
    labelNames: ['kind', 'status'],
    count: () =>
      knex('outbox')
        .whereNot('status', 'done')
        .select('kind', 'status')
        .count({ n: '*' })
        .groupBy('kind', 'status'),
  });
  countedGauge(registry, {
    name: 'pectrack_incidents_open',
    help: 'Open incidents, by tenant',
    labelNames: ['tenant'],
    count: () =>
      knex('incident')
        .where('status', 'open')
        .select({ tenant: 'tenant_id' })
        .count({ n: '*' })
        .groupBy('tenant_id'),
  });
  countedGauge(registry, {
    name: 'pectrack_mailboxes',
    help: 'Mailboxes by tenant and health (auth-failed: the provider refused the login)',
    labelNames: ['tenant', 'health'],
    count: () =>
      knex('mailbox')
        .select({ tenant: 'tenant_id', health: 'health_status' })
        .count({ n: '*' })
        .groupBy('tenant_id', 'health_status'),
  });
}

function countedGauge<L extends string>(
  registry: Registry,
  spec: {
    name: string;
    help: string;
    labelNames: L[];
    count: () => PromiseLike<unknown[]>;
  },
): void {
  new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    async collect() {
      const rows = (await spec.count()) as (Record<L, unknown> & Count)[];
      // Reset first: a group that emptied since the last scrape drops out, not keeps its count.
      this.reset();
      for (const row of rows) {
        const labels = Object.fromEntries(
          spec.labelNames.map((label) => [label, String(row[label])]),
        ) as Record<L, string>;
        this.set(labels, Number(row.n));
      }
    },
  });
}
