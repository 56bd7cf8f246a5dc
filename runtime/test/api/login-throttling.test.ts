/**
 * HTTP Basic is the login (every request carries it) and passwords may be as short as 4
 * characters, so repeated wrong passwords for one account are slowed down: after a run of
 * failures the server answers 429 with Retry-After instead of trying yet another guess, on
 * /api/v1 and /engine-rest alike, and another login is not held up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './support/http.js';
import { basic, SQLITE, startApiServer, USERS, type ApiServer } from './support/server.js';

const GUESSES = 30;

describe.each([SQLITE])('password guessing on $kind', (database) => {
  let server: ApiServer;

  beforeAll(async () => {
    server = await startApiServer(database);
  });
  afterAll(async () => server?.close());

  it(`${GUESSES} wrong passwords in a row for one user are throttled (429 + Retry-After)`, async () => {
    const api = `${server.url}/api/v1`;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < GUESSES; i++) {
      const reply = await call(api, '/definitions', { auth: basic(USERS.clerk, `guess-${i}`) });
      statuses.push(reply.status);
      if (reply.status === 429) {
        retryAfter = reply.headers.get('retry-after');
        break;
      }
    }
    // Ten guesses are free, the eleventh fails, and the twelfth waits 30 s.
    expect(statuses).toEqual([...Array(11).fill(401), 429]);
    expect(retryAfter).toBe('30');
    // Locked out, the right password waits too: else guessing would go on, only slower to read.
    const right = await call(api, '/definitions', { auth: basic(USERS.clerk) });
    expect(right.status).toBe(429);
    const camunda = await call(`${server.url}/engine-rest`, '/process-definition', {
      auth: basic(USERS.clerk),
    });
    expect([camunda.status, camunda.headers.get('retry-after')]).toEqual([429, '30']);
    // Another user logs in as usual.
    expect((await call(api, '/definitions', { auth: basic(USERS.analyst) })).status).toBe(200);
  });
});
