import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { freePort } from '../../src/embedded/postgres';
import { startDevServer, type DevServer } from '../../src/embedded/dev-server';
import { findGo, obtainTool } from '../../src/embedded/tools';
import { WORKFLOW_BUNDLES } from '../../src/temporal/workflow-bundle';
import { ensureBuilt } from './build';
import { chromiumMissing } from './chromium';
import { buildConfigRenderer } from './compose';
import { adminDatabaseUrl, type AdminDatabase } from './database';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalBinary: string;
    workflowBundlePath: string;
    adminDatabaseUrl: string;
    /** compose.test.ts: the temporalio/server image's config rendering (test/support/dockerize); '' without Go. */
    configRenderer: string;
  }
}

/**
 * Real parts for every integration test: a Temporal dev server (the same binary `npm start` uses),
 * a Postgres (TEST_DATABASE_URL, the local server, or an embedded one), and dist/ as `npm run build`
 * makes it, whose prebuilt workflow bundle every test worker loads, as production workers do.
 * What a fresh machine may lack is said first, in one sentence, before anything starts.
 */
export default async function setup(project: TestProject) {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const log = createLogger('warn');
  await ensureBuilt(log);
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-test-'));
  // Run as root, Postgres runs as the postgres user, which must be able to reach its data dir.
  chmodSync(dir, 0o755);
  const { tools } = loadConfig();
  const binary = await obtainTool('temporal', tools, log);
  if (!binary) throw new Error('No Temporal CLI: set TEMPORAL_CLI_PATH, put temporal on PATH, or install Go.');
  // TEMPORAL_ENGINE=server's test runs the Temporal server: built here, once, outside any test's timeout
  // (about 4 minutes on 2 cores; `npm run tools` does it ahead, as .ci/run does).
  let configRenderer = '';
  if (findGo(tools)) {
    await obtainTool('temporal-server', tools, log);
    await obtainTool('temporal-sql-tool', tools, log);
    configRenderer = await buildConfigRenderer(findGo(tools)!, dir);
  }

  let server: DevServer | undefined;
  let database: AdminDatabase | undefined;
  try {
    const [port, uiPort] = [await freePort(), await freePort()];
    [server, database] = await Promise.all([
      startDevServer({ binary, dataDir: join(dir, 'temporal'), port, uiPort, namespace: 'default', log }),
      adminDatabaseUrl(join(dir, 'postgres'), log),
    ]);
    project.provide('temporalAddress', server.address);
    project.provide('temporalBinary', binary);
    project.provide('workflowBundlePath', WORKFLOW_BUNDLES.plain);
    project.provide('adminDatabaseUrl', database.url);
    project.provide('configRenderer', configRenderer);
  } catch (err) {
    await server?.stop();
    await database?.stop();
    throw err;
  }
  return async () => {
    await server?.stop();
    await database?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
