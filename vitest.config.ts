import { defineConfig } from 'vitest/config';

// One vitest run for the whole monorepo: each package is a project, so `npm test` is one command.
export default defineConfig({
  test: {
    projects: ['connectors/*', 'runtime'],
  },
});
