import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { freePort } from '../../src/embedded/postgres';
import { startService, type Service } from '../../src/service';
import { temporalDatabases } from '../../src/embedded/temporal-server';
import { findGo, findTool } from '../../src/embedded/tools';
import { messageWorkflowId } from '../../workflows/ids';
import { createTestDatabase } from '../support/database';
import { Receiver, waitFor } from '../support/receiver';
import { apiRequest, buildEndpoint, buildEvent, uniqueTenant } from '../support/stack';

/**
 * TEMPORAL_ENGINE=server: `hookflow start`'s embedded Temporal is the real server on Postgres (schema
 * set up by temporal-sql-tool, namespace and search attributes registered), and a delivery goes
 * through it. The server and its SQL tool are built before any test runs (test/support/global-setup.ts,
 * `npm run tools`), never inside this test's timeout; without Go or TEMPORAL_SERVER_PATH and
 * TEMPORAL_SQL_TOOL_PATH there are none, and the test is skipped.
 */
const { tools } = loadConfig();
const built = Boolean(findTool('temporal-server', tools) && findTool('temporal-sql-tool', tools));
if (!built) {
  if (findGo(tools)) throw new Error('Go is installed but the Temporal server is not built: global-setup.ts builds it; run `npm run tools`');
  console.warn('server-engine.test.ts skipped: no Go to build the Temporal server, and no TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH');
}

describe.skipIf(!built)('TEMPORAL_ENGINE=server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-server-engine-'));
  chmodSync(dataDir, 0o755);
  const apiKey = 'server-engine-key-0123456789';
  let database: { url: string; drop(): Promise<void> };
  let service: Service | undefined;
  let receiver: Receiver;

  beforeAll(async () => {
    database = await createTestDatabase(inject('adminDatabaseUrl'));
    receiver = await Receiver.start();
  }, 600_000);

  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
    const names = temporalDatabases(database.url);
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    for (const name of [names.main, names.visibility]) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sets up the server on Postgres, registers the namespace and its search attributes, and delivers through it', async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const config = loadConfig({
      PORT: '0',
      API_KEYS: apiKey,
      DATABASE_URL: database.url,
      TEMPORAL_ENGINE: 'server',
      TEMPORAL_DEV_PORT: String(port),
      TEMPORAL_ENGINE_METRICS_PORT: String(metricsPort),
      TEMPORAL_NAMESPACE: 'hookflow-server-test',
      HOOKFLOW_DATA_DIR: dataDir,
      ALLOW_PRIVATE_NETWORK: 'true',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    service = await startService(config, { roles: ['api', 'worker'], embedded: true, log: createLogger(config.logLevel), workflowBundle: { codePath: inject('workflowBundlePath') } });
    expect(service.temporalAddress).toBe(`127.0.0.1:${port}`);
    expect(service.temporalUiUrl).toBeUndefined();
    // The config holds the database password: readable by its owner only.
    const configFile = join(dataDir, 'temporal-server', 'config', 'development.yaml');
    expect(existsSync(configFile)).toBe(true);
    expect(JSON.parse(readFileSync(configFile, 'utf8')).persistence.numHistoryShards).toBe(1);

    const request = apiRequest(service.apiUrl!, apiKey);
    const tenantId = uniqueTenant();
    const endpoint = await request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url('/server-engine') }));
    expect(endpoint.status).toBe(201);
    const event = await request('POST', '/events', buildEvent({ tenantId }));
    expect(event.status).toBe(202);

    const received = await waitFor(() => receiver.received.find((r) => r.path === '/server-engine'), 'the delivery through the Temporal server', 60_000);
    expect(JSON.parse(received.body).type).toBe('sync.completed');

    // The operator's view: the message workflow, found by its search attribute, on this server.
    const connection = await Connection.connect({ address: service.temporalAddress });
    try {
      const client = new Client({ connection, namespace: 'hookflow-server-test' });
      const found = await waitFor(async () => {
        const { count } = await client.workflow.count(`TenantId = "${tenantId}"`);
        return count >= 2 ? count : undefined;
      }, 'the message and delivery workflows in visibility', 30_000);
      expect(found).toBe(2);
      const description = await client.workflow.getHandle(messageWorkflowId(String(event.body.id))).describe();
      expect(description.type).toBe('messageWorkflow');
    } finally {
      await connection.close();
    }
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(await metrics.text()).toMatch(/persistence_requests\{/);
  });
});
