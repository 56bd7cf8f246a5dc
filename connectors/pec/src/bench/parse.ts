import { performance } from 'node:perf_hooks';
import { simpleParser } from 'mailparser';
import { parsePec } from '../parser/parse.js';
import { loadTrustAnchors } from '../signature/anchors.js';
import { buildCorpus, createTestCa } from '../testkit/index.js';

/*
 * bench:parse: parsePec (signature check included) next to plain mailparser simpleParser on the
 * same testkit corpus in the same run. Each message is parsed by both, one right after the other,
 * so both sides see the same machine load (the cores are shared); the best of the rounds counts.
 */
const COUNT = Number(process.env.BENCH_PARSE_COUNT ?? 2000);
/** A mailbox's mix: mostly receipts and short messages, some attachments, a few large ones. */
const ATTACHMENT_SIZES = [
  0, 0, 0, 0, 2_000, 5_000, 20_000, 20_000, 50_000, 100_000, 250_000, 1_000_000,
];
const ROUNDS = Number(process.env.BENCH_PARSE_ROUNDS ?? 3);

interface Totals {
  wallMs: number;
  cpuMs: number;
}

async function timed(parse: () => Promise<unknown>, totals: Totals): Promise<void> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await parse();
  totals.wallMs += performance.now() - started;
  const used = process.cpuUsage(cpu);
  totals.cpuMs += (used.user + used.system) / 1000;
}

async function round(
  corpus: Buffer[],
  options: Parameters<typeof parsePec>[1],
): Promise<{ ours: Totals; theirs: Totals }> {
  const ours = { wallMs: 0, cpuMs: 0 };
  const theirs = { wallMs: 0, cpuMs: 0 };
  for (const raw of corpus) {
    await timed(() => parsePec(raw, options), ours);
    await timed(() => simpleParser(raw), theirs);
  }
  return { ours, theirs };
}

async function main(): Promise<void> {
  const ca = createTestCa();
  const options = { trustAnchors: loadTrustAnchors([ca.certificate]) };
  const building = performance.now();
  const corpus = buildCorpus({ ca, count: COUNT, seed: 42, attachmentSizes: ATTACHMENT_SIZES }).map(
    (message) => message.raw,
  );
  const megabytes = corpus.reduce((sum, raw) => sum + raw.length, 0) / 1e6;
  console.log(
    `corpus: ${corpus.length} messages, ${megabytes.toFixed(1)} MB, built in ${((performance.now() - building) / 1000).toFixed(1)} s`,
  );
  await round(corpus.slice(0, 200), options);
  const rounds: Array<{ ours: Totals; theirs: Totals }> = [];
  for (let index = 1; index <= ROUNDS; index += 1) {
    const result = await round(corpus, options);
    rounds.push(result);
    console.log(
      `round ${index}: parsePec ${result.ours.wallMs.toFixed(0)} ms (cpu ${result.ours.cpuMs.toFixed(0)} ms), ` +
        `mailparser ${result.theirs.wallMs.toFixed(0)} ms (cpu ${result.theirs.cpuMs.toFixed(0)} ms)`,
    );
  }
  const best = (side: 'ours' | 'theirs', measure: keyof Totals) =>
    Math.min(...rounds.map((r) => r[side][measure]));
  console.log(
    `cpu time ratio (less sensitive to other load on the machine): ${(best('ours', 'cpuMs') / best('theirs', 'cpuMs')).toFixed(2)}`,
  );
  // What intake runs: the same envelope with the inner message read as an outline.
  const outline = { wallMs: 0, cpuMs: 0 };
  for (const raw of corpus)
    await timed(() => parsePec(raw, { ...options, inner: 'outline' }), outline);
  console.log(
    `outline parse (what intake stores): ${Math.round((corpus.length / outline.wallMs) * 1000)}/s, ${(outline.wallMs / best('theirs', 'wallMs')).toFixed(2)} of mailparser's time`,
  );
  const rate = (corpus.length / best('ours', 'wallMs')) * 1000;
  const mailparserRate = (corpus.length / best('theirs', 'wallMs')) * 1000;
  console.log(
    `bench:parse rate=${Math.round(rate)}/s mailparser_rate=${Math.round(mailparserRate)}/s ratio=${(best('ours', 'wallMs') / best('theirs', 'wallMs')).toFixed(2)}`,
  );
}

await main();
