#!/usr/bin/env node
import { main } from '../dist/cli.js';

main(process.argv).catch((error) => {
  process.stderr.write(`pectrack-pec: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
