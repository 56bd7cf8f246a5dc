import { performance } from 'node:perf_hooks';
import { simpleParser } from 'mailparser';
import { parsePec } from '../parser/parse.js';
import { loadTrustAnchors } from '../signature/anchors.js';
import { buildCorpus, createTestCa } from '../testkit/index.js';

/*
 * bench:parse: parsePec (signature check included) next to plain mailparser simpleParser on the
 * same testkit corpus, in the same run. Rounds alternate so neither side gets a warmer machine.
 */
const COUNT = Number(process.env.BENCH_PARSE_COUNT ?? 3000);
const ROUNDS = Number(process.env.BENCH_PARSE_ROUNDS ?? 3);

async function timeParser(corpus: Buffer[], parse: (raw: Buffer) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (const raw of corpus) await parse(raw);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const ca = createTestCa();
  const anchors = loadTrustAnchors([ca.certificate]);
  const built = performance.now();
  const corpus = buildCorpus({ ca, count: COUNT, seed: 42 }).map((message) => message.raw);
  const bytes = corpus.reduce((sum, raw) => sum + raw.length, 0);
  console.log(`corpus: ${corpus.length} messages, ${(bytes / 1e6).toFixed(1)} MB, built in ${((performance.now() - built) / 1000).toFixed(1)} s`);
  const ours = (raw: Buffer) => parsePec(raw, { trustAnchors: anchors });
  const theirs = (raw: Buffer) => simpleParser(raw);
  await timeParser(corpus.slice(0, 200), ours);
  await timeParser(corpus.slice(0, 200), theirs);
  let best = { ours: Infinity, theirs: Infinity };
  for (let round = 1; round <= ROUNDS; round += 1) {
    const oursMs = await timeParser(corpus, ours);
    const theirsMs = await timeParser(corpus, theirs);
    console.log(`round ${round}: parsePec ${oursMs.toFixed(0)} ms, mailparser ${theirsMs.toFixed(0)} ms`);
    best = { ours: Math.min(best.ours, oursMs), theirs: Math.min(best.theirs, theirsMs) };
  }
  const rate = (corpus.length / best.ours) * 1000;
  const mailparserRate = (corpus.length / best.theirs) * 1000;
  console.log(`bench:parse rate=${Math.round(rate)}/s mailparser_rate=${Math.round(mailparserRate)}/s ratio=${(best.ours / best.theirs).toFixed(2)}`);
}

await main();
