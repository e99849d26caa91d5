#!/usr/bin/env node
// The `hookflow` command: the compiled service in dist/ (`npm run build`, which `npm install` runs
// through the prepare script), imported into this same process, so signals reach hookflow itself and
// it can stop Temporal and Postgres cleanly. `npm run dev` runs the TypeScript sources instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`hookflow is not built (${fileURLToPath(main)} is missing): run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}.\n`);
  process.exit(2);
}
await import(main.href);
