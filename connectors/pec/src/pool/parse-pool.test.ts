import { describe, expect, it } from 'vitest';
import { parsePec } from '../parser/parse.js';
import { loadTrustAnchors } from '../signature/anchors.js';
import { buildCorpus, createTestCa } from '../testkit/index.js';
import { ParsePool, ParseWorkerError } from './parse-pool.js';

const ca = createTestCa();
const corpus = buildCorpus({ ca, count: 60, seed: 5, attachmentSizes: [0, 3000, 200_000] });

describe('ParsePool', () => {
  it('gives the envelopes parsePec gives, from two workers', async () => {
    const pool = new ParsePool({ size: 2, trustAnchors: [ca.certificatePem], inner: 'outline' });
    try {
      const envelopes = await Promise.all(corpus.map(({ raw }) => pool.parse(raw)));
      const trustAnchors = loadTrustAnchors([ca.certificate]);
      for (const [index, { raw }] of corpus.entries())
        expect(envelopes[index]).toEqual(await parsePec(raw, { trustAnchors, inner: 'outline' }));
      expect(envelopes.some((e) => e.signature.status === 'valid')).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('copies a view into a larger buffer and moves a whole buffer given up with transfer', async () => {
    const pool = new ParsePool({ size: 1 });
    try {
      const { raw } = corpus[0]!;
      const padded = Buffer.concat([Buffer.alloc(64, 0x41), raw, Buffer.alloc(64, 0x42)]);
      const view = padded.subarray(64, 64 + raw.length);
      const expected = await parsePec(raw);
      expect(await pool.parse(view, { transfer: true })).toEqual(expected);
      expect(view.length).toBe(raw.length);
      const owned = Buffer.from(new Uint8Array(raw));
      expect(await pool.parse(owned, { transfer: true })).toEqual(expected);
      expect(owned.buffer.byteLength).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('rejects what a dying worker held, then starts another', async () => {
    const pool = new ParsePool({ size: 1 });
    try {
      const inFlight = pool.parse(corpus[1]!.raw);
      const worker = (
        pool as unknown as { workers: Array<{ worker: { terminate(): Promise<number> } }> }
      ).workers[0]!;
      await worker.worker.terminate();
      await expect(inFlight).rejects.toThrow(ParseWorkerError);
      expect((await pool.parse(corpus[2]!.raw)).kind).toBe((await parsePec(corpus[2]!.raw)).kind);
    } finally {
      await pool.close();
    }
    await expect(pool.parse(corpus[0]!.raw)).rejects.toThrow(/closed/);
  });

  it('refuses a pool without workers', () => {
    expect(() => new ParsePool({ size: 0 })).toThrow(/at least one worker/);
  });
});
