/**
 * Hostile and broken requests: each gets a 4xx problem that names what is
 * wrong, and the server keeps serving the next request.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, type Json, type Reply } from './support/http.js';
import { basic, DATABASES, startApiServer, USERS, type ApiServer } from './support/server.js';

const SIMPLE_APPROVAL = readFileSync(
  new URL('../../samples/simple-approval.bpmn', import.meta.url),
  'utf8',
);
const KB = 1024;
const LIMITS = {
  jsonBytes: 64 * KB,
  xmlBytes: 256 * KB,
  multipart: { fileBytes: 256 * KB, files: 3, fields: 10, fieldBytes: 16 * KB },
};

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:process id="laughs" name="&lol9;" isExecutable="true" />
</bpmn:definitions>`;

const EXTERNAL_ENTITY = `<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:process id="xxe" name="&secret;" isExecutable="true" />
</bpmn:definitions>`;

const UNKNOWN_ELEMENTS = SIMPLE_APPROVAL.replace('id="simple-approval"', 'id="unknown-elements"')
  .replace(
    '<bpmn:exclusiveGateway id="Decision"',
    '<bpmn:complexGateway id="Complex" /><bpmn:exclusiveGateway id="Decision"',
  )
  .replace(
    '<bpmn:endEvent id="Rejected"',
    '<bpmn:teleporter id="Teleport" /><bpmn:endEvent id="Rejected"',
  );

describe.each(DATABASES)('bad input on $kind', (database) => {
  let server: ApiServer;
  let api: string;
  const admin = basic(USERS.admin);

  beforeAll(async () => {
    server = await startApiServer(database, LIMITS);
    api = `${server.url}/api/v1`;
    const deployed = await call(api, '/definitions?name=simple-approval', {
      auth: admin,
      headers: { 'content-type': 'application/xml' },
      body: SIMPLE_APPROVAL,
    });
    expect(deployed.status).toBe(201);
  });
  afterAll(async () => server?.close());

  afterEach(async () => {
    const next = await call(api, '/definitions?key=simple-approval', { auth: admin });
    expect(next.status).toBe(200);
    expect(next.body).toHaveLength(1);
  });

  function expectProblem(reply: Reply, status: number, code: string, mentions: string[]) {
    expect(reply.status).toBe(status);
    expect(reply.contentType).toContain('application/problem+json');
    expect(reply.body).toMatchObject({ type: `https://pectrack.org/problems/${code}`, status });
    const text = JSON.stringify(reply.body);
    for (const word of mentions) expect(text).toContain(word);
    expect(text).not.toMatch(/\n\s+at /);
  }

  const deployXml = (xml: string, name = 'bad') =>
    call(api, `/definitions?name=${name}`, {
      auth: admin,
      headers: { 'content-type': 'application/xml' },
      body: xml,
    });

  it('malformed XML → 422 naming the parse problem', async () => {
    const reply = await deployXml(
      SIMPLE_APPROVAL.slice(0, SIMPLE_APPROVAL.indexOf('<bpmn:endEvent id="Approved"') + 20),
    );
    expectProblem(reply, 422, 'validation', ['problems']);
    expect(reply.body.problems.length).toBeGreaterThan(0);
    expect(reply.body.problems[0].reason).toEqual(expect.any(String));
  });

  it('not XML at all → 400 naming it', async () => {
    expectProblem(await deployXml('{"this": "is json"}'), 400, 'invalid-xml', ['not XML']);
  });

  it('DOCTYPE with entity expansion (billion laughs) → 400 before Json parser runs', async () => {
    expectProblem(await deployXml(BILLION_LAUGHS), 400, 'xml-forbidden-construct', [
      'DOCTYPE',
      'billion laughs',
    ]);
  });

  it('external entity (XXE) in a multipart file → 400 naming the file', async () => {
    const form = new FormData();
    form.append('file', new Blob([EXTERNAL_ENTITY]), 'xxe.bpmn');
    const reply = await call(api, '/definitions', { auth: admin, body: form });
    expectProblem(reply, 400, 'xml-forbidden-construct', ['xxe.bpmn', 'DOCTYPE']);
  });

  it('XML with DOCTYPE through /engine-rest → Camunda parse error', async () => {
    const form = new FormData();
    form.append('deployment-name', 'laughs');
    form.append('laughs.bpmn', new Blob([BILLION_LAUGHS], { type: 'text/xml' }), 'laughs.bpmn');
    const reply = await call(server.url, '/engine-rest/deployment/create', {
      auth: admin,
      body: form,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.type).toBe('ParseException');
    expect(reply.body.message).toContain('DOCTYPE');
  });

  it('unknown and unsupported elements → 422 listing each element', async () => {
    const reply = await deployXml(UNKNOWN_ELEMENTS);
    expectProblem(reply, 422, 'validation', ['Complex', 'Teleport']);
    const ids = reply.body.problems.map((p: Json) => p.elementId);
    expect(ids).toContain('Complex');
  });

  it('variables of the wrong type → 400 naming the field', async () => {
    const notObject = await call(api, '/instances', {
      auth: admin,
      json: { definitionKey: 'simple-approval', variables: ['approved', true] },
    });
    expectProblem(notObject, 400, 'invalid-request', ['body.variables']);
    const badName = await call(api, '/instances', {
      auth: admin,
      json: { definitionKey: 'simple-approval', variables: { '1st-approver': 'anna' } },
    });
    expectProblem(badName, 400, 'invalid-request', ['1st-approver']);
    const businessKey = await call(api, '/instances', {
      auth: admin,
      json: { definitionKey: 'simple-approval', businessKey: 42 },
    });
    expectProblem(businessKey, 400, 'invalid-request', ['body.businessKey']);
  });

  it('invalid JSON, missing fields and wrong media types → 400/415 naming them', async () => {
    const broken = await call(api, '/instances', {
      auth: admin,
      headers: { 'content-type': 'application/json' },
      body: '{"definitionKey": "simple-approval",',
    });
    expectProblem(broken, 400, 'invalid-json', ['not valid JSON']);
    const neither = await call(api, '/instances', { auth: admin, json: { businessKey: 'X' } });
    expectProblem(neither, 400, 'invalid-request', ['body.definitionKey', 'exactly one']);
    const query = await call(api, '/tasks?limit=many', { auth: admin });
    expectProblem(query, 400, 'invalid-request', ['query.limit']);
    const form = await call(api, '/instances', {
      auth: admin,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'definitionKey=simple-approval',
    });
    expectProblem(form, 415, 'unsupported-media-type', ['application/json']);
  });

  it('a page number that is not plain decimal digits → 400 naming it, on /api/v1 and /engine-rest', async () => {
    // Each was read as a number: a blank one as 0, the others as 5, 16, 100 and 5.
    for (const value of ['', '%205%20', '0x10', '1e2', '5.0']) {
      const offset = await call(api, `/instances?offset=${value}`, { auth: admin });
      expectProblem(offset, 400, 'invalid-request', ['query.offset']);
      const limit = await call(api, `/tasks?limit=${value}`, { auth: admin });
      expectProblem(limit, 400, 'invalid-request', ['query.limit']);
      for (const field of ['firstResult', 'maxResults']) {
        const camunda = await call(server.url, `/engine-rest/task?${field}=${value}`, {
          auth: admin,
        });
        expect(camunda.status, `${field}=${value}`).toBe(400);
        expect(camunda.body).toMatchObject({ type: 'InvalidRequestException' });
        expect(camunda.body.message).toContain(field);
      }
    }
    // The bounds and the defaults stay as they were.
    expectProblem(await call(api, '/tasks?limit=1001', { auth: admin }), 400, 'invalid-request', [
      'query.limit',
    ]);
    expectProblem(
      await call(api, '/instances?offset=-1', { auth: admin }),
      400,
      'invalid-request',
      ['query.offset'],
    );
    expect((await call(api, '/tasks', { auth: admin })).status).toBe(200);
    expect((await call(api, '/tasks?limit=1000&offset=0', { auth: admin })).status).toBe(200);
    const camunda = await call(server.url, '/engine-rest/task?firstResult=0&maxResults=1', {
      auth: admin,
    });
    expect(camunda.status).toBe(200);
  });

  it('oversized JSON body → 413', async () => {
    const reply = await call(api, '/instances', {
      auth: admin,
      json: { definitionKey: 'simple-approval', variables: { note: 'x'.repeat(200 * KB) } },
    });
    expectProblem(reply, 413, 'payload-too-large', [String(LIMITS.jsonBytes)]);
  });

  it('oversized XML body → 413', async () => {
    const padded = SIMPLE_APPROVAL.replace(
      '</bpmn:definitions>',
      `<!-- ${'p'.repeat(400 * KB)} --></bpmn:definitions>`,
    );
    expectProblem(await deployXml(padded), 413, 'payload-too-large', [String(LIMITS.xmlBytes)]);
  });

  it('oversized multipart file → 413 naming the file', async () => {
    const form = new FormData();
    const padded = SIMPLE_APPROVAL.replace(
      '</bpmn:definitions>',
      `<!-- ${'p'.repeat(400 * KB)} --></bpmn:definitions>`,
    );
    form.append('file', new Blob([padded]), 'huge.bpmn');
    const reply = await call(api, '/definitions', { auth: admin, body: form });
    expectProblem(reply, 413, 'payload-too-large', ['huge.bpmn']);
  });

  it('malformed multipart → 400 naming the problem', async () => {
    const noBoundary = await call(api, '/definitions', {
      auth: admin,
      headers: { 'content-type': 'multipart/form-data' },
      body: 'whatever',
    });
    expectProblem(noBoundary, 400, 'invalid-multipart', ['Boundary not found']);
    const truncated = await call(api, '/definitions', {
      auth: admin,
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.bpmn"\r\n\r\n<bpmn:definitions',
    });
    expectProblem(truncated, 400, 'invalid-multipart', ['Unexpected end of form']);
  });

  it('clients hanging up mid-upload do not disturb the server', async () => {
    const { port } = new URL(server.url);
    for (const contentType of ['multipart/form-data; boundary=XYZ', 'application/xml']) {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST /api/v1/definitions?name=cut HTTP/1.1\r\nHost: x\r\nAuthorization: ${admin}\r\n` +
              `Content-Type: ${contentType}\r\nContent-Length: 100000\r\n\r\n` +
              '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.bpmn"\r\n\r\n<bpmn:defin',
          );
          setTimeout(() => socket.destroy(), 200);
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
    }
  });

  it('too many multipart files → 400 naming the limit', async () => {
    const form = new FormData();
    for (let i = 0; i < 5; i++) form.append('file', new Blob([SIMPLE_APPROVAL]), `copy-${i}.bpmn`);
    const reply = await call(api, '/definitions', { auth: admin, body: form });
    expectProblem(reply, 400, 'too-many-files', [`at most ${LIMITS.multipart.files} files`]);
  });

  it('oversized multipart upload through /engine-rest → 413 in Camunda shape', async () => {
    const form = new FormData();
    form.append('deployment-name', 'huge');
    form.append(
      'huge.bpmn',
      new Blob(['<x>' + 'p'.repeat(400 * KB) + '</x>'], { type: 'text/xml' }),
      'huge.bpmn',
    );
    const reply = await call(server.url, '/engine-rest/deployment/create', {
      auth: admin,
      body: form,
    });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ type: 'InvalidRequestException' });
    expect(reply.body.message).toContain('huge.bpmn');
  });
});
