import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createLogger } from '../../src/logger';
import { freePort } from '../../src/embedded-postgres';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { obtainTool } from '../../src/temporal/tools';
import { WORKFLOWS_PATH } from '../../src/paths';
import { adminDatabaseUrl, type AdminDatabase } from './database';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalBinary: string;
    workflowBundlePath: string;
    adminDatabaseUrl: string;
  }
}

/**
 * Real parts for every integration test: a Temporal dev server (the same binary `npm start` uses),
 * a Postgres (TEST_DATABASE_URL, the local server, or an embedded one), and the workflow bundle,
 * built once instead of once per worker.
 */
export default async function setup(project: TestProject) {
  const log = createLogger('warn');
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-test-'));
  // Run as root, Postgres runs as the postgres user, which must be able to reach its data dir.
  chmodSync(dir, 0o755);
  const binary = await obtainTool('temporal', log);
  if (!binary) throw new Error('No Temporal CLI: set TEMPORAL_CLI_PATH, put temporal on PATH, or install Go.');

  let server: DevServer | undefined;
  let database: AdminDatabase | undefined;
  try {
    const [port, uiPort] = [await freePort(), await freePort()];
    [server, database] = await Promise.all([
      startDevServer({ binary, dataDir: join(dir, 'temporal'), port, uiPort, namespace: 'default', log }),
      adminDatabaseUrl(join(dir, 'postgres'), log),
    ]);
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
    const bundlePath = join(dir, 'workflow-bundle.js');
    writeFileSync(bundlePath, code);

    project.provide('temporalAddress', server.address);
    project.provide('temporalBinary', binary);
    project.provide('workflowBundlePath', bundlePath);
    project.provide('adminDatabaseUrl', database.url);
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

const quietLogger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error };
