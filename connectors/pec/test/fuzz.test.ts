import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePec, type PecEnvelope } from '../src/index.js';
import { buildCorpus, pick, seededRandom } from '../src/testkit/index.js';
import { testWorld } from './fixtures.js';

const SEED = 20261126;
const MUTATIONS = 5000;

type Mutation = (raw: Buffer, random: () => number, corpus: Buffer[]) => Buffer;

const at = (random: () => number, length: number) => Math.floor(random() * Math.max(length, 1));

const MUTATIONS_BY_NAME: Record<string, Mutation> = {
  byteFlips(raw, random) {
    const copy = Buffer.from(raw);
    const flips = 1 + Math.floor(random() * 16);
    for (let i = 0; i < flips; i += 1) copy[at(random, copy.length)] = Math.floor(random() * 256);
    return copy;
  },
  truncation(raw, random) {
    return raw.subarray(0, at(random, raw.length));
  },
  splice(raw, random, corpus) {
    const other = pick(random, corpus);
    return Buffer.concat([
      raw.subarray(0, at(random, raw.length)),
      other.subarray(at(random, other.length)),
    ]);
  },
  headerDuplication(raw, random) {
    const end = raw.indexOf('\r\n\r\n');
    const lines = raw
      .subarray(0, end < 0 ? raw.length : end)
      .toString('latin1')
      .split('\r\n');
    const line = pick(random, lines);
    const copies = Array.from({ length: 1 + Math.floor(random() * 3) }, () => line).join('\r\n');
    return Buffer.concat([Buffer.from(`${copies}\r\n`, 'latin1'), raw]);
  },
  boundaryDamage(raw, random) {
    const text = raw.toString('latin1');
    const boundaries = [...text.matchAll(/boundary="([^"]+)"/g)].map((m) => m[1] ?? '');
    if (boundaries.length === 0) return raw;
    const boundary = pick(random, boundaries);
    return Buffer.from(
      random() < 0.5
        ? text.replaceAll(`--${boundary}--`, '')
        : text.replace(boundary, `${boundary}x`),
      'latin1',
    );
  },
  lineEndings(raw, random) {
    const text = raw.toString('latin1');
    return Buffer.from(
      random() < 0.5 ? text.replace(/\r\n/g, '\n') : text.replace(/\r\n/g, '\r'),
      'latin1',
    );
  },
};

describe('seeded fuzz', () => {
  let corpus: Buffer[];
  let anchors: ReturnType<typeof testWorld>['anchors'];
  beforeAll(() => {
    const world = testWorld();
    anchors = world.anchors;
    corpus = buildCorpus({
      ca: world.ca,
      count: 60,
      seed: SEED,
      attachmentSizes: [0, 0, 3_000, 30_000],
    }).map((m) => m.raw);
  });

  it(`${MUTATIONS} mutations of valid envelopes: no exception escapes, every input yields an envelope`, async () => {
    const random = seededRandom(SEED);
    const names = Object.keys(MUTATIONS_BY_NAME);
    let slowest = { ms: 0, mutation: '' };
    const kinds = new Map<string, number>();
    for (let i = 0; i < MUTATIONS; i += 1) {
      const name = pick(random, names);
      const input = MUTATIONS_BY_NAME[name]!(pick(random, corpus), random, corpus);
      const started = performance.now();
      let envelope: PecEnvelope | undefined;
      let escaped: unknown;
      try {
        envelope = await parsePec(input, { trustAnchors: anchors });
      } catch (error) {
        escaped = error;
      }
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { ms, mutation: `#${i} ${name} (${input.length} bytes)` };
      expect(escaped, `mutation #${i} (${name}) threw`).toBeUndefined();
      expect(envelope?.problems, `mutation #${i} (${name})`).toBeInstanceOf(Array);
      expect(typeof envelope?.kind).toBe('string');
      expect(['valid', 'intact-untrusted', 'invalid', 'unsigned']).toContain(
        envelope?.signature.status,
      );
      kinds.set(envelope!.kind, (kinds.get(envelope!.kind) ?? 0) + 1);
      JSON.stringify(envelope);
    }
    console.info(
      `fuzz: slowest parse ${slowest.ms.toFixed(1)} ms (${slowest.mutation}); kinds ${JSON.stringify(Object.fromEntries(kinds))}`,
    );
    // The bound on pathological input: no parse over 1 s.
    expect(slowest.ms).toBeLessThan(1000);
    expect(kinds.get('unparseable')).toBeGreaterThan(0);
  }, 120_000);
});
