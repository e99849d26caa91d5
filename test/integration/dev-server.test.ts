import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { Connection } from '@temporalio/client';
import { freePort } from '../../src/embedded/postgres';
import { createLogger } from '../../src/observability/logger';
import { startSdkDevServer } from '../../src/embedded/dev-server';

/**
 * The no-Go fallback runs the dev server through the SDK. Here it is handed the CLI we have instead of a
 * download (this machine has no internet), which exercises everything but the download itself.
 */
const dir = mkdtempSync(join(tmpdir(), 'hookflow-sdk-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the SDK-managed dev server', () => {
  it('serves the namespace with the search attributes, on the configured ports and file', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const server = await startSdkDevServer({
      executable: { type: 'existing-path', path: inject('temporalBinary') },
      dataDir: dir, port, uiPort, namespace: 'default', log: createLogger('silent'),
    });
    try {
      expect(server.address).toBe(`127.0.0.1:${port}`);
      const connection = await Connection.connect({ address: server.address });
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['TenantId', 'EventType', 'MessageId', 'EndpointId']));
      await connection.close();
      expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
