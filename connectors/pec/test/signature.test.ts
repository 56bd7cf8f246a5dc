import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrustAnchors, parsePec } from '../src/index.js';
import { buildReceipt, buildTransportEnvelope, createTestCa } from '../src/testkit/index.js';
import { submit, testWorld } from './fixtures.js';

let world: ReturnType<typeof testWorld>;
let envelope: Buffer;
beforeAll(() => {
  world = testWorld();
  envelope = buildTransportEnvelope({ provider: world.sender, submission: submit(world.sender) });
});

function replaceOnce(raw: Buffer, from: string, to: string): Buffer {
  const text = raw.toString('latin1');
  expect(text).toContain(from);
  return Buffer.from(text.replace(from, to), 'latin1');
}

describe('signature check', () => {
  it('is valid for sha1 and sha256 signatures chaining to the configured anchor', async () => {
    const sha256 = buildReceipt({ provider: world.receiver, submission: submit(world.sender), kind: 'avvenuta-consegna' });
    expect((await parsePec(envelope, { trustAnchors: world.anchors })).signature).toMatchObject({ status: 'valid', algorithm: 'sha1' });
    expect((await parsePec(sha256, { trustAnchors: world.anchors })).signature).toMatchObject({ status: 'valid', algorithm: 'sha256' });
  });

  it('accepts anchors given as PEM text or DER bytes', async () => {
    expect((await parsePec(envelope, { trustAnchors: [world.ca.certificate] })).signature.status).toBe('valid');
    expect((await parsePec(envelope, { trustAnchors: [world.ca.certificatePem] })).signature.status).toBe('valid');
  });

  it('is invalid when one signed byte changed, and the message is still parsed', async () => {
    const tampered = replaceOnce(envelope, 'delibera n. 12/2026', 'delibera n. 13/2026');
    const parsed = await parsePec(tampered, { trustAnchors: world.anchors });
    expect(parsed.signature).toMatchObject({ status: 'invalid', reason: 'signed content was modified: digest does not match' });
    expect(parsed).toMatchObject({ kind: 'posta-certificata', inner: { text: expect.stringContaining('13/2026') } });
  });

  it('is still valid when only unsigned outer headers changed', async () => {
    const relabelled = replaceOnce(envelope, 'Subject: POSTA CERTIFICATA:', 'Subject: [SPAM?] POSTA CERTIFICATA:');
    expect((await parsePec(relabelled, { trustAnchors: world.anchors })).signature.status).toBe('valid');
  });

  it('is intact-untrusted when the signer does not chain to the anchors', async () => {
    const otherCa = createTestCa({ commonName: 'Some Other CA' });
    const parsed = await parsePec(envelope, { trustAnchors: loadTrustAnchors([otherCa.certificatePem]) });
    expect(parsed.signature).toMatchObject({ status: 'intact-untrusted', signer: { email: 'posta-certificata@pec.mittente.test' } });
    expect(parsed.signature.reason).toMatch(/certificate chain/);
  });

  it('is intact-untrusted when no anchors are configured', async () => {
    expect((await parsePec(envelope)).signature).toMatchObject({ status: 'intact-untrusted', reason: 'no trust anchors configured' });
  });

  it('verifies a message stored with bare LF line ends in its canonical CRLF form', async () => {
    const lf = Buffer.from(envelope.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    expect((await parsePec(lf, { trustAnchors: world.anchors })).signature.status).toBe('valid');
  });

  it('is invalid when smime.p7s is not CMS', async () => {
    const text = envelope.toString('latin1');
    const start = text.indexOf('filename="smime.p7s"');
    const body = text.indexOf('\r\n\r\n', start) + 4;
    const garbage = Buffer.from(text.slice(0, body) + Buffer.from('not a signature at all').toString('base64') + text.slice(text.indexOf('\r\n', body)), 'latin1');
    const parsed = await parsePec(garbage, { trustAnchors: world.anchors });
    expect(parsed.signature.status).toBe('invalid');
    expect(parsed.signature.reason).toMatch(/^smime\.p7s is not a CMS SignedData/);
    expect(parsed.kind).toBe('posta-certificata');
  });

  it('reports bad trust anchors as a problem instead of throwing', async () => {
    const parsed = await parsePec(envelope, { trustAnchors: [Buffer.from([0x30, 0x03, 0x02, 0x01])] });
    expect(parsed.problems[0]).toMatch(/^trust anchors unusable/);
    expect(parsed.signature.status).toBe('intact-untrusted');
  });
});
