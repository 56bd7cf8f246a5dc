import { defineConfig } from 'vitest/config';

// One vitest run for the whole monorepo: each package is a project, so `npm test` is one command.
// The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
export default defineConfig({
  test: {
    projects: ['connectors/*', 'runtime'],
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-report.json' }]],
  },
});
