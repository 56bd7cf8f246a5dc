import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { parsePec } from './parser/parse.js';

/** `pectrack-pec parse FILE.eml [--trust-anchor CERT.pem ...] [--max-depth N]`: the envelope as JSON. */
export function buildProgram(): Command {
  const program = new Command('pectrack-pec').description('PEC/REM message tools');
  program
    .command('parse')
    .description('parse a raw message (.eml) and print its PecEnvelope as JSON')
    .argument('<file>', 'the raw message')
    .option(
      '--trust-anchor <file...>',
      'PEM or DER certificate(s) a provider signature must chain to',
    )
    .option('--max-depth <n>', 'how many forwarded envelopes deep to parse', (value) => {
      const depth = Number(value);
      if (!Number.isInteger(depth) || depth < 0)
        throw new Error(`--max-depth must be a non-negative integer, got "${value}"`);
      return depth;
    })
    .action(async (file: string, options: { trustAnchor?: string[]; maxDepth?: number }) => {
      const raw = await readFile(file);
      const trustAnchors = options.trustAnchor
        ? await Promise.all(options.trustAnchor.map((path) => readFile(path)))
        : undefined;
      const envelope = await parsePec(raw, {
        ...(trustAnchors ? { trustAnchors } : {}),
        ...(options.maxDepth === undefined ? {} : { maxDepth: options.maxDepth }),
      });
      process.stdout.write(JSON.stringify(envelope, null, 2) + '\n');
    });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
