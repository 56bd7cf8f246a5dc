/**
 * POST /api/v1/messages/reparse: its body's `limit` is documented (OpenAPI, built from the
 * validating schema) as an integer from 1 to 500, and the other /api/v1 numbers are taken only
 * as what they say (query-integer.ts: a coercion read '1e2', '0x10' and ' 5 ' as numbers, and a
 * client sending those meant something else). In a JSON body a boolean, a string or an array is
 * not an integer: it is a 400 naming body.limit, not a page of some other size read again (a
 * reading again opens cases and applies receipts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from './support/http.js';
import { basic, SQLITE, startApiServer, USERS, type ApiServer } from './support/server.js';

const ADMIN = basic(USERS.admin);

describe('POST /messages/reparse limit', () => {
  let server: ApiServer;
  let api: string;
  beforeAll(async () => {
    server = await startApiServer(SQLITE);
    api = `${server.url}/api/v1`;
  });
  afterAll(async () => server?.close());

  it('takes only what the OpenAPI document says: an integer, not a boolean, a string or an array', async () => {
    const doc = (await call(api, '/openapi.json')).body;
    const limit =
      doc.paths['/api/v1/messages/reparse'].post.requestBody.content['application/json'].schema
        .properties.limit;
    expect(limit).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 });

    const answers: Record<string, number> = {};
    for (const value of [true, '1e2', '0x10', ' 7 ', [5]]) {
      const reply = await call(api, '/messages/reparse', { auth: ADMIN, json: { limit: value } });
      answers[JSON.stringify(value)] = reply.status;
      if (reply.status === 400) expect(JSON.stringify(reply.body.problems)).toContain('body.limit');
    }
    expect(answers).toEqual({
      true: 400,
      '"1e2"': 400,
      '"0x10"': 400,
      '" 7 "': 400,
      '[5]': 400,
    });
    // An integer in bounds is taken.
    expect((await call(api, '/messages/reparse', { auth: ADMIN, json: { limit: 5 } })).status).toBe(
      200,
    );
  });
});
