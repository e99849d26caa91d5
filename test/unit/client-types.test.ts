import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { offlineOpenApiDocument } from '../../src/api/app';
// @ts-expect-error: a plain ES module script of the client package, without type declarations
import { TYPES_FILE, generateTypes } from '../../packages/client/scripts/generate-types.mjs';

/**
 * @hookflow/client's request and response types are generated from the server's OpenAPI document and
 * committed (packages/client/src/openapi.ts). When a route or schema changes, this fails until they are
 * generated again: `npm run generate:client`.
 */
describe('@hookflow/client types', () => {
  it("are those of the server's OpenAPI document", async () => {
    const expected = (await generateTypes(offlineOpenApiDocument())) as string;
    const committed = readFileSync(TYPES_FILE as string, 'utf8');
    expect(committed === expected, 'packages/client/src/openapi.ts is stale: run `npm run generate:client` and commit it').toBe(true);
  });
});
