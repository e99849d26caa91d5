import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run histories:record` (HISTORIES_VERSION=<folder>): drives the scenarios in record-histories.ts on the
 * integration tests' real parts (global-setup.ts: a Temporal dev server, Postgres, the workflow bundle of the
 * code checked out) and saves each workflow's history under test/histories/<folder>/. Not part of `npm test`.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/support/record-histories.ts'],
    environment: 'node',
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
