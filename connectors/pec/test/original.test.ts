/**
 * The message the sender wrote and its attachments, found as the parser finds them: in a
 * transport envelope, an anomaly, a REM dispatch, an envelope a mailing list relayed, plain mail.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  originalAttachment,
  originalMessageOf,
  parsePec,
  type AttachmentContent,
} from '../src/index.js';
import {
  buildAnomalyEnvelope,
  buildOriginalMessage,
  buildReceipt,
  buildRemMessage,
  buildTransportEnvelope,
  wrapForMailingList,
} from '../src/testkit/index.js';
import { ORIGINAL, submit, testWorld } from './fixtures.js';

let world: ReturnType<typeof testWorld>;
beforeAll(() => {
  world = testWorld();
});

const PDF = Buffer.from(Array.from({ length: 5_000 }, (_, n) => (n * 31) % 256));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const contentOf = (part: AttachmentContent) => Buffer.concat([...part.chunks]);

describe('originalAttachment', () => {
  it('gives each attachment decoded, in the order and with the SHA-256 an outline parse lists', async () => {
    const submission = submit(world.sender, {
      attachments: [
        ...ORIGINAL.attachments!,
        { filename: 'planimetria ù.pdf', contentType: 'application/pdf', content: PDF },
      ],
    });
    const carriers = {
      transport: buildTransportEnvelope({ provider: world.sender, submission }),
      rem: buildRemMessage({
        provider: world.sender,
        submission,
        evidence: 'SubmissionAcceptance',
        includeOriginal: true,
      }),
      'mailing list': wrapForMailingList(
        buildTransportEnvelope({ provider: world.sender, submission }),
        {
          listAddress: 'consiglieri@comune.test',
          listId: 'consiglieri.comune.test',
          style: 'attachment',
        },
      ),
    };
    for (const [carrier, raw] of Object.entries(carriers)) {
      const outline = await parsePec(raw, { inner: 'outline' });
      const listed = outline.inner?.attachments ?? [];
      expect(
        listed.map((a) => a.filename),
        carrier,
      ).toEqual(['domanda.pdf', 'planimetria ù.pdf']);
      listed.forEach((attachment, index) => {
        const part = originalAttachment(raw, index)!;
        expect(part, carrier).toMatchObject({
          filename: attachment.filename,
          contentType: attachment.contentType,
        });
        expect(sha256(contentOf(part)), carrier).toBe(attachment.sha256);
      });
      expect(contentOf(originalAttachment(raw, 1)!).equals(PDF), carrier).toBe(true);
      expect(originalAttachment(raw, 2), carrier).toBeNull();
    }
  });

  it('hands a large attachment over a slice at a time, as often as it is read', async () => {
    const large = Buffer.from(
      Array.from({ length: 3_000_000 }, (_, n) => (n * 7 + (n >> 9)) % 256),
    );
    const raw = buildTransportEnvelope({
      provider: world.sender,
      submission: submit(world.sender, {
        attachments: [{ filename: 'rilievo.tif', contentType: 'image/tiff', content: large }],
      }),
    });
    const part = originalAttachment(raw, 0)!;
    const sizes = [...part.chunks].map((chunk) => chunk.length);
    expect(sizes.length).toBeGreaterThan(10);
    expect(Math.max(...sizes)).toBeLessThan(100_000);
    expect(contentOf(part).equals(large)).toBe(true);
    expect(contentOf(part).equals(large)).toBe(true);
  });

  it('reads plain mail and an anomaly as themselves, and finds nothing in a receipt', () => {
    const plain = buildOriginalMessage({
      ...ORIGINAL,
      attachments: [{ filename: 'a.bin', contentType: 'application/octet-stream', content: PDF }],
    });
    expect(originalMessageOf(plain)?.equals(plain)).toBe(true);
    expect(contentOf(originalAttachment(plain, 0)!).equals(PDF)).toBe(true);

    const anomaly = buildAnomalyEnvelope({ provider: world.receiver, message: plain });
    expect(originalMessageOf(anomaly)?.toString('latin1')).toContain(
      'Richiesta di accesso agli atti',
    );
    expect(contentOf(originalAttachment(anomaly, 0)!).equals(PDF)).toBe(true);

    const receipt = buildReceipt({
      provider: world.sender,
      submission: submit(world.sender),
      kind: 'accettazione',
    });
    expect(originalAttachment(receipt, 0)).toBeNull();
    expect(originalMessageOf(Buffer.from('no headers at all'))).toBeNull();
  });
});
