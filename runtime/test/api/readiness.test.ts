/** /readyz follows the database; /healthz only says the process is alive. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './support/http.js';
import { DATABASES, startApiServer, type ApiServer } from './support/server.js';

describe.each(DATABASES)('readiness on $kind', (database) => {
  let server: ApiServer;

  beforeAll(async () => {
    server = await startApiServer(database);
  });
  afterAll(async () => server?.close());

  it('is ready while the database answers, and 503 once it does not', async () => {
    expect((await call(server.url, '/readyz')).status).toBe(200);
    await server.runtime.scheduler.stop();
    await server.orm.close(true);
    const down = await call(server.url, '/readyz');
    expect(down.status).toBe(503);
    expect(down.contentType).toContain('application/problem+json');
    expect(down.body).toMatchObject({
      type: 'https://pectrack.org/problems/not-ready',
      status: 503,
    });
    expect((await call(server.url, '/healthz')).status).toBe(200);
  });
});
