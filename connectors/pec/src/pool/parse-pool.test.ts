import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { parsePec } from '../parser/parse.js';
import { loadTrustAnchors } from '../signature/anchors.js';
import { buildCorpus, createTestCa } from '../testkit/index.js';
import { ParsePool, ParsePoolClosedError, ParseWorkerError } from './parse-pool.js';

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

  it('copies a view into a larger buffer, and moves a whole buffer when it can be read again', async () => {
    const pool = new ParsePool({ size: 1 });
    try {
      const { raw } = corpus[0]!;
      const padded = Buffer.concat([Buffer.alloc(64, 0x41), raw, Buffer.alloc(64, 0x42)]);
      const view = padded.subarray(64, 64 + raw.length);
      const expected = await parsePec(raw);
      expect(await pool.parse(view, { reread: async () => raw })).toEqual(expected);
      expect(view.length).toBe(raw.length);
      const owned = Buffer.from(new Uint8Array(raw));
      expect(await pool.parse(owned, { reread: async () => raw })).toEqual(expected);
      expect(owned.buffer.byteLength).toBe(0);
    } finally {
      await pool.close();
    }
  });

  const workersOf = (pool: ParsePool) =>
    (pool as unknown as { workers: Array<{ worker: { terminate(): Promise<number> } }> }).workers;

  it('parses again, one by one, what a worker held when it died', async () => {
    const pool = new ParsePool({ size: 1 });
    try {
      const messages = corpus.slice(0, 20).map(({ raw }) => Buffer.from(new Uint8Array(raw)));
      const rereads: number[] = [];
      const parsing = messages.map((raw, index) =>
        index % 2 === 0
          ? pool.parse(raw)
          : pool.parse(raw, {
              reread: async () => {
                rereads.push(index);
                return Buffer.from(new Uint8Array(corpus[index]!.raw));
              },
            }),
      );
      await workersOf(pool)[0]!.worker.terminate();
      const envelopes = await Promise.all(parsing);
      for (const [index, envelope] of envelopes.entries())
        expect(envelope).toEqual(await parsePec(corpus[index]!.raw));
      expect(rereads.length).toBeGreaterThan(0);
      expect(rereads.every((index) => index % 2 === 1)).toBe(true);
    } finally {
      await pool.close();
    }
    await expect(pool.parse(corpus[0]!.raw)).rejects.toThrow(/closed/);
  });

  it('rejects a message its worker died on while it was parsed alone', async () => {
    const pool = new ParsePool({ size: 1 });
    try {
      const parsing = corpus.slice(0, 10).map(({ raw }) => pool.parse(raw));
      await workersOf(pool)[0]!.worker.terminate();
      // The suspects are now parsed one at a time; the worker dies under the first of them.
      const internals = pool as unknown as { isolation: { worker: Worker } | null };
      while (!internals.isolation) await new Promise((resolve) => setImmediate(resolve));
      await internals.isolation.worker.terminate();
      const results = await Promise.allSettled(parsing);
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(ParseWorkerError);
      expect((rejected[0] as PromiseRejectedResult).reason.message).toMatch(/died on this message/);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(9);
    } finally {
      await pool.close();
    }
  });

  it('ends a worker that gives no answer in time, and rejects each message only once it stalls alone', async () => {
    // No worker answers within a millisecond (starting one takes longer): each message is one
    // a worker got stuck on, first among others, then alone.
    const pool = new ParsePool({ size: 1, answerTimeoutMs: 1 });
    try {
      const results = await Promise.allSettled(
        corpus.slice(0, 3).map(({ raw }) => pool.parse(raw)),
      );
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as Error;
        expect(reason).toBeInstanceOf(ParseWorkerError);
        expect(reason.message).toBe(
          'the parse worker died on this message: parse worker gave no answer within 1 ms',
        );
      }
    } finally {
      await pool.close();
    }
    await expect(pool.parse(corpus[0]!.raw)).rejects.toBeInstanceOf(ParsePoolClosedError);
  });

  it('refuses a pool without workers', () => {
    expect(() => new ParsePool({ size: 0 })).toThrow(/at least one worker/);
  });
});
