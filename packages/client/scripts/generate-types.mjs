#!/usr/bin/env node
/**
 * The client's request and response types, generated from hookflow's OpenAPI document (GET /openapi.json,
 * or `hookflow openapi`) with openapi-typescript into src/openapi.ts, which is committed.
 * `npm run generate:client` in the repository runs it; test/unit/client-types.test.ts fails when the
 * committed file and the server's document disagree.
 *
 *   node scripts/generate-types.mjs <document.json | http://host/openapi.json> [--out src/openapi.ts]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const TYPES_FILE = fileURLToPath(new URL('../src/openapi.ts', import.meta.url));

const HEADER = `/**
 * Generated from hookflow's OpenAPI document by scripts/generate-types.mjs (openapi-typescript). Do not edit:
 * run \`npm run generate:client\` in the hookflow repository.
 */

`;

/** The text of src/openapi.ts for this document. */
export async function generateTypes(document) {
  return HEADER + astToString(await openapiTS(document, { alphabetize: false }));
}

async function main() {
  const args = process.argv.slice(2);
  const source = args.find((a) => !a.startsWith('--'));
  const outIndex = args.indexOf('--out');
  const out = outIndex >= 0 ? args[outIndex + 1] : TYPES_FILE;
  if (!source) throw new Error('usage: generate-types.mjs <document.json | url> [--out file]');
  const text = /^https?:/.test(source) ? await (await fetch(source)).text() : await readFile(source, 'utf8');
  await writeFile(out, await generateTypes(JSON.parse(text)));
  process.stdout.write(`wrote ${out}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
