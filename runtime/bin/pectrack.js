#!/usr/bin/env node
// Resolved through the package's own exports: dist/cli.js normally, src/cli.ts under --conditions=development.
import { main } from '@pectrack/runtime/cli';

await main(process.argv);
