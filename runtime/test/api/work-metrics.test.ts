/**
 * /metrics carries what an operator alerts on besides the HTTP timings: outbox entries not yet
 * handed on (a failed one leaves its instance waiting with no incident), open incidents, and
 * mailboxes by health, each counted from the database when Prometheus scrapes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knexOf } from '../../src/store/orm.js';
import { admin } from '../support/actors.js';
import { diagram, flows } from '../support/fixtures.js';
import { DATABASES, startApiServer, TENANT, type ApiServer } from './support/server.js';

/** The samples of `name` in a Prometheus text exposition, by their label text. */
function samples(text: string, name: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) found[match[1] ?? ''] = Number(match[2]);
  }
  return found;
}

const routing = diagram(
  'routing',
  `<bpmn:startEvent id="start" />
   <bpmn:exclusiveGateway id="route" />
   <bpmn:endEvent id="high" />
   ${flows('start>route')}
   <bpmn:sequenceFlow id="to-high" sourceRef="route" targetRef="high">
     <bpmn:conditionExpression>=priority = "high"</bpmn:conditionExpression>
   </bpmn:sequenceFlow>`,
);

describe.each(DATABASES)('work metrics on $kind', (database) => {
  let server: ApiServer;
  const scrape = async () => (await fetch(`${server.url}/metrics`)).text();

  beforeAll(async () => {
    server = await startApiServer(database);
  });
  afterAll(async () => server?.close());

  it('counts failed outbox entries, open incidents and mailboxes by health as they change', async () => {
    const before = await scrape();
    expect(samples(before, 'pectrack_incidents_open')).toEqual({});
    expect(samples(before, 'pectrack_outbox_entries')).not.toHaveProperty(
      '{kind="scheduleTimer",status="failed"}',
    );

    // An instance stopped at a gateway no flow leaves: one open incident.
    const actor = admin();
    const { services } = server.runtime;
    await services.definitions.deploy(actor, {
      name: 'routing',
      files: [{ filename: 'r.bpmn', xml: routing }],
    });
    await services.instances.start(actor, {
      definitionKey: 'routing',
      variables: { priority: 'low' },
    });
    // The dispatcher gave up on an entry (what it records after its last attempt).
    await knexOf(server.orm)('outbox').insert({
      tenant_id: TENANT,
      instance_id: null,
      kind: 'scheduleTimer',
      payload: JSON.stringify({ dueAt: 'never' }),
      idempotency_key: 'metrics-test:failed',
      status: 'failed',
      attempts: 10,
      next_attempt_at: new Date(),
      last_error: 'Invalid time value',
      created_at: new Date(),
    });
    // A mailbox not yet switched on.
    await server.runtime.intake.mailboxes.create(TENANT, {
      name: 'Protocollo',
      address: 'protocollo@comune.pec.test',
      imap: { host: '127.0.0.1', port: 1, tls: false, allowPlaintext: true },
      username: 'protocollo@comune.pec.test',
      password: 'segreto',
      enabled: false,
    });

    const after = await scrape();
    expect(samples(after, 'pectrack_incidents_open')).toEqual({ [`{tenant="${TENANT}"}`]: 1 });
    expect(samples(after, 'pectrack_outbox_entries')).toMatchObject({
      '{kind="scheduleTimer",status="failed"}': 1,
    });
    expect(samples(after, 'pectrack_mailboxes')).toEqual({
      [`{tenant="${TENANT}",health="disabled"}`]: 1,
    });

    // Resolved, the incident drops out of the count.
    const [incident] = await services.incidents.list(actor, { status: 'open' });
    await services.incidents.retry(actor, incident!.id, { priority: 'high' });
    expect(samples(await scrape(), 'pectrack_incidents_open')).toEqual({});
  });
});
