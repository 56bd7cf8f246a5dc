import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrustAnchors, originalMessageOf, parsePec } from '../src/index.js';
import { decodedBody, parseEntity } from '../src/mime/entity.js';
import { childrenOf, readTlv } from '../src/signature/der.js';
import {
  buildReceipt,
  buildTransportEnvelope,
  createTestCa,
  createTestProvider,
  signDetached,
} from '../src/testkit/index.js';
import { mixedMessage, submit, testWorld } from './fixtures.js';

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

/** Re-encodes the outer `levels` of a DER value with indefinite lengths, as OpenSSL's S/MIME output has them. */
function toIndefinite(der: Buffer, levels: number): Buffer {
  const tlv = readTlv(der, 0);
  if (levels === 0 || !tlv.constructed) return der;
  const children = childrenOf(der, tlv).map((child) =>
    toIndefinite(der.subarray(child.start, child.end), levels - 1),
  );
  return Buffer.concat([Buffer.from([der[0] ?? 0, 0x80]), ...children, Buffer.from([0, 0])]);
}

function withSignature(raw: Buffer, transform: (p7s: Buffer) => Buffer): Buffer {
  const text = raw.toString('latin1');
  const start = text.indexOf('\r\n\r\n', text.indexOf('filename="smime.p7s"')) + 4;
  const end = text.indexOf('\r\n\r\n', start);
  const p7s = transform(Buffer.from(text.slice(start, end), 'base64'));
  return Buffer.from(
    text.slice(0, start) + p7s.toString('base64').replace(/.{76}/g, '$&\r\n') + text.slice(end),
    'latin1',
  );
}

/** A DER element: `tag`, a definite length, `content`. */
function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  const header = length < 0x80 ? [tag, length] : [tag, 0x80 | octets.length, ...octets];
  return Buffer.concat([Buffer.from(header), content]);
}

/** An OCTET STRING in BER chunks of `size` octets, indefinite length: OpenSSL's streaming form. */
function chunkedOctets(content: Buffer, size: number): Buffer {
  const chunks: Buffer[] = [];
  for (let at = 0; at < content.length; at += size)
    chunks.push(der(0x04, content.subarray(at, at + size)));
  return Buffer.concat([Buffer.from([0x24, 0x80]), ...chunks, Buffer.from([0, 0])]);
}

/**
 * The envelope as opaque S/MIME, as some gateways send it: its signed entity carried inside the
 * SignedData (eContent) of an application/pkcs7-mime message, the signature the provider made.
 */
function opaqueSigned(raw: Buffer, contentType: string, chunked = false): Buffer {
  const root = parseEntity(raw, []);
  const [content, signature] = root.children;
  const entity = raw.subarray(content!.start, content!.end);
  const p7s = toIndefinite(decodedBody(raw, signature!), 3);
  const signedData = childrenOf(p7s, childrenOf(p7s, readTlv(p7s, 0))[1]!)[0]!;
  const encapsulated = childrenOf(p7s, signedData)[2]!;
  const [eContentType] = childrenOf(p7s, encapsulated);
  const attached = der(
    0x30,
    Buffer.concat([
      p7s.subarray(eContentType!.start, eContentType!.end),
      der(0xa0, chunked ? chunkedOctets(entity, 1000) : der(0x04, entity)),
    ]),
  );
  const p7m = Buffer.concat([
    p7s.subarray(0, encapsulated.start),
    attached,
    p7s.subarray(encapsulated.end),
  ]);
  const text = raw.toString('latin1');
  const outer = text.slice(0, text.indexOf('MIME-Version: 1.0\r\n'));
  return Buffer.from(
    outer +
      'MIME-Version: 1.0\r\n' +
      `Content-Type: ${contentType}; smime-type=signed-data; name="smime.p7m"\r\n` +
      'Content-Transfer-Encoding: base64\r\n' +
      'Content-Disposition: attachment; filename="smime.p7m"\r\n\r\n' +
      p7m.toString('base64').replace(/.{76}/g, '$&\r\n') +
      '\r\n',
    'latin1',
  );
}

describe('signature check', () => {
  it('is valid for sha1 and sha256 signatures chaining to the configured anchor', async () => {
    const sha256 = buildReceipt({
      provider: world.receiver,
      submission: submit(world.sender),
      kind: 'avvenuta-consegna',
    });
    expect((await parsePec(envelope, { trustAnchors: world.anchors })).signature).toMatchObject({
      status: 'valid',
      algorithm: 'sha1',
    });
    expect((await parsePec(sha256, { trustAnchors: world.anchors })).signature).toMatchObject({
      status: 'valid',
      algorithm: 'sha256',
    });
  });

  it('is valid for a provider that signs with an ECDSA key, envelope and receipt alike', async () => {
    const ecProvider = createTestProvider(world.ca, {
      domain: 'pec.ecdsa.test',
      name: 'Gestore ECDSA',
      keyType: 'ec',
      hash: 'sha256',
    });
    const submission = submit(ecProvider);
    const signed = [
      buildTransportEnvelope({ provider: ecProvider, submission }),
      buildReceipt({ provider: ecProvider, submission, kind: 'accettazione' }),
    ];
    for (const raw of signed) {
      const parsed = await parsePec(raw, { trustAnchors: world.anchors });
      expect(parsed.signature).toMatchObject({
        status: 'valid',
        algorithm: 'sha256',
        signer: { email: 'posta-certificata@pec.ecdsa.test' },
      });
      expect(parsed.problems).toEqual([]);
    }
  });

  it('accepts anchors given as PEM text or DER bytes', async () => {
    expect(
      (await parsePec(envelope, { trustAnchors: [world.ca.certificate] })).signature.status,
    ).toBe('valid');
    expect(
      (await parsePec(envelope, { trustAnchors: [world.ca.certificatePem] })).signature.status,
    ).toBe('valid');
  });

  it('is invalid when one signed byte changed, and the message is still parsed', async () => {
    const tampered = replaceOnce(envelope, 'delibera n. 12/2026', 'delibera n. 13/2026');
    const parsed = await parsePec(tampered, { trustAnchors: world.anchors });
    expect(parsed.signature).toMatchObject({
      status: 'invalid',
      reason: 'signed content was modified: digest does not match',
    });
    expect(parsed).toMatchObject({
      kind: 'posta-certificata',
      inner: { text: expect.stringContaining('13/2026') },
    });
  });

  it('is still valid when only unsigned outer headers changed', async () => {
    const relabelled = replaceOnce(
      envelope,
      'Subject: POSTA CERTIFICATA:',
      'Subject: [SPAM?] POSTA CERTIFICATA:',
    );
    expect((await parsePec(relabelled, { trustAnchors: world.anchors })).signature.status).toBe(
      'valid',
    );
  });

  it('is intact-untrusted when the signer does not chain to the anchors', async () => {
    const otherCa = createTestCa({ commonName: 'Some Other CA' });
    const parsed = await parsePec(envelope, {
      trustAnchors: loadTrustAnchors([otherCa.certificatePem]),
    });
    expect(parsed.signature).toMatchObject({
      status: 'intact-untrusted',
      signer: { email: 'posta-certificata@pec.mittente.test' },
    });
    expect(parsed.signature.reason).toMatch(/certificate chain/);
  });

  it('is intact-untrusted when no anchors are configured', async () => {
    expect((await parsePec(envelope)).signature).toMatchObject({
      status: 'intact-untrusted',
      reason: 'no trust anchors configured',
    });
  });

  it('verifies a message stored with bare LF line ends in its canonical CRLF form', async () => {
    const lf = Buffer.from(envelope.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    expect((await parsePec(lf, { trustAnchors: world.anchors })).signature.status).toBe('valid');
  });

  it('verifies a signature whose outer layers use indefinite-length BER (OpenSSL style)', async () => {
    const ber = withSignature(envelope, (p7s) => toIndefinite(p7s, 4));
    expect(ber.toString('latin1')).toContain('MIAGCSqGSIb3DQEHAqCAMIA');
    expect((await parsePec(ber, { trustAnchors: world.anchors })).signature.status).toBe('valid');
  });

  it('is invalid when the signature carries its own content instead of signing the MIME part', async () => {
    const attached = withSignature(envelope, (der) => {
      // indefinite outer lengths, so the encapsulated content can grow without re-encoding its parents
      const p7s = toIndefinite(der, 3);
      const signedData = childrenOf(p7s, childrenOf(p7s, readTlv(p7s, 0))[1]!)[0]!;
      const encapsulated = childrenOf(p7s, signedData)[2]!;
      const eContent = Buffer.from([0xa0, 0x05, 0x04, 0x03, 0x61, 0x62, 0x63]);
      const grown = Buffer.concat([p7s.subarray(encapsulated.start, encapsulated.end), eContent]);
      grown[1] = (grown[1] ?? 0) + eContent.length;
      return Buffer.concat([
        p7s.subarray(0, encapsulated.start),
        grown,
        p7s.subarray(encapsulated.end),
      ]);
    });
    const parsed = await parsePec(attached, { trustAnchors: world.anchors });
    expect(parsed.signature).toMatchObject({ status: 'invalid' });
    expect(parsed.signature.reason).toBe(
      'smime.p7s is not a CMS SignedData: signature carries its own content (not detached)',
    );
  });

  it.each(['application/pkcs7-mime', 'application/x-pkcs7-mime'])(
    'verifies opaque S/MIME (%s) over the entity it carries, and reads that entity as the message',
    async (type) => {
      const detached = await parsePec(envelope, { trustAnchors: world.anchors });
      const parsed = await parsePec(opaqueSigned(envelope, type), {
        trustAnchors: world.anchors,
      });
      expect(parsed.signature).toEqual(detached.signature);
      expect(parsed.signature.status).toBe('valid');
      expect(parsed).toMatchObject({
        kind: 'posta-certificata',
        providerId: detached.providerId,
        originalMessageId: detached.originalMessageId,
        certData: detached.certData,
        inner: detached.inner,
        problems: [],
      });
      expect(originalMessageOf(opaqueSigned(envelope, type))).toEqual(originalMessageOf(envelope));
    },
  );

  it('reads the entity of an opaque S/MIME message streamed as BER chunks (OpenSSL)', async () => {
    const parsed = await parsePec(opaqueSigned(envelope, 'application/pkcs7-mime', true), {
      trustAnchors: world.anchors,
    });
    expect(parsed).toMatchObject({ kind: 'posta-certificata', problems: [] });
    expect(parsed.signature.status).toBe('valid');
  });

  it('finds an opaque S/MIME message whose carried entity was altered invalid, and still reads it', async () => {
    const opaque = opaqueSigned(envelope, 'application/pkcs7-mime');
    const text = opaque.toString('latin1');
    const bodyStart = text.indexOf('\r\n\r\n', text.indexOf('smime.p7m')) + 4;
    const p7m = Buffer.from(text.slice(bodyStart).replace(/\r\n/g, ''), 'base64');
    // One byte of the carried entity changes (a part's file name, not a certificate's name);
    // the signature still names the old digest.
    const at = p7m.indexOf(Buffer.from('filename="daticert.xml"'));
    expect(at).toBeGreaterThan(0);
    p7m[at + 'filename="'.length] = 'D'.charCodeAt(0);
    const altered = Buffer.from(
      text.slice(0, bodyStart) + p7m.toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n',
      'latin1',
    );
    const parsed = await parsePec(altered, { trustAnchors: world.anchors });
    expect(parsed.signature.status).toBe('invalid');
    expect(parsed.signature.reason).toMatch(/digest/i);
    expect(parsed.kind).toBe('posta-certificata');
  });

  it('says why an opaque S/MIME message carrying no content cannot be read', async () => {
    const detachedP7m = signDetached(Buffer.from('x'), world.sender.identity, 'sha256', new Date());
    const raw = Buffer.from(
      'Message-ID: <opaque.empty@pec.test>\r\nX-Trasporto: posta-certificata\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n' +
        'Content-Transfer-Encoding: base64\r\n\r\n' +
        detachedP7m.toString('base64').replace(/.{76}/g, '$&\r\n') +
        '\r\n',
      'latin1',
    );
    const parsed = await parsePec(raw, { trustAnchors: world.anchors });
    expect(parsed.signature).toEqual({
      status: 'invalid',
      reason: 'application/pkcs7-mime carries no signed content',
    });
    expect(parsed.problems).toContain(
      'certified message is opaque S/MIME (application/pkcs7-mime) whose signed content (certification data, original message) cannot be read',
    );
  });

  it('takes a signed .p7m file attached to plain mail for a file, not for the message signature', async () => {
    const raw = mixedMessage(
      ['From: a@mittente.test', 'To: b@comune.test', 'Subject: Delibera firmata'],
      [
        { headers: 'Content-Type: text/plain', body: 'In allegato la delibera firmata.' },
        {
          headers:
            'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="delibera.pdf.p7m"\r\nContent-Disposition: attachment; filename="delibera.pdf.p7m"\r\nContent-Transfer-Encoding: base64',
          body: Buffer.from('firmato').toString('base64'),
        },
      ],
    );
    const parsed = await parsePec(raw, { trustAnchors: world.anchors });
    expect(parsed).toMatchObject({
      kind: 'plain',
      signature: { status: 'unsigned' },
      problems: [],
    });
  });

  it('is invalid when smime.p7s is not CMS', async () => {
    const text = envelope.toString('latin1');
    const start = text.indexOf('filename="smime.p7s"');
    const body = text.indexOf('\r\n\r\n', start) + 4;
    const garbage = Buffer.from(
      text.slice(0, body) +
        Buffer.from('not a signature at all').toString('base64') +
        text.slice(text.indexOf('\r\n', body)),
      'latin1',
    );
    const parsed = await parsePec(garbage, { trustAnchors: world.anchors });
    expect(parsed.signature.status).toBe('invalid');
    expect(parsed.signature.reason).toMatch(/^smime\.p7s is not a CMS SignedData/);
    expect(parsed.kind).toBe('posta-certificata');
  });

  it('reports bad trust anchors as a problem instead of throwing', async () => {
    const parsed = await parsePec(envelope, {
      trustAnchors: [Buffer.from([0x30, 0x03, 0x02, 0x01])],
    });
    expect(parsed.problems[0]).toMatch(/^trust anchors unusable/);
    expect(parsed.signature.status).toBe('intact-untrusted');
  });
});
