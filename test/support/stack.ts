import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowBundleOption } from '@temporalio/worker';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/observability/logger';
import { startService } from '../../src/service';
import { createTestDatabase } from './database';

export const API_KEY = 'test-key-0123456789';

export type ApiResponse = { status: number; body: any; headers: Headers };

export type TestStack = {
  config: Config;
  apiUrl: string;
  db: pg.Pool;
  temporal: Client;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  stop(): Promise<void>;
};

/**
 * The API and the worker in this process, on the suite's Temporal server and a fresh database, with
 * a task queue of their own. `env` overrides configuration the way an operator would.
 */
export async function startTestStack(
  env: Record<string, string> = {},
  o: {
    roles?: ('api' | 'worker')[];
    log?: Logger;
    route?: (target: { databaseUrl: string; temporalAddress: string }) => Promise<{ databaseUrl: string; temporalAddress: string }>;
    /** Instead of the suite's shared bundle, e.g. one built with workflow interceptors. */
    workflowBundle?: WorkflowBundleOption;
    /** A built portal page to serve instead of dist/portal. */
    portalDir?: string;
  } = {},
): Promise<TestStack> {
  const database = await createTestDatabase(inject('adminDatabaseUrl'));
  const direct = { databaseUrl: database.url, temporalAddress: inject('temporalAddress') };
  const routed = o.route ? await o.route(direct) : direct;
  const roles = o.roles ?? ['api', 'worker'];
  const config = loadConfig({
    PORT: '0',
    API_KEYS: API_KEY,
    DATABASE_URL: routed.databaseUrl,
    TEMPORAL_ADDRESS: routed.temporalAddress,
    TEMPORAL_TASK_QUEUE: `hookflow-test-${randomBytes(4).toString('hex')}`,
    ALLOW_PRIVATE_NETWORK: 'true',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    ...env,
  });
  const log = o.log ?? createLogger(config.logLevel);
  const service = await startService(config, { roles, embedded: false, log, workflowBundle: o.workflowBundle ?? { codePath: inject('workflowBundlePath') }, portalDir: o.portalDir });
  const db = new pg.Pool({ connectionString: database.url, max: 4 });
  // The database is dropped WITH (FORCE) at the end; a connection it closes must not fail the run.
  db.on('error', () => undefined);
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const temporal = new Client({ connection });
  const apiUrl = service.apiUrl ?? '';

  return {
    config,
    apiUrl,
    db,
    temporal,
    request: apiRequest(apiUrl, API_KEY),
    async stop() {
      await service.stop();
      await connection.close();
      await db.end();
      await database.drop();
    },
  };
}

/** Requests to a hookflow API with a key, answered as `{ status, body, headers }` (body parsed when JSON). */
export function apiRequest(apiUrl: string, apiKey: string): TestStack['request'] {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
}

let counter = 0;
/** A tenant id no other test uses. */
export function uniqueTenant(prefix = 't'): string {
  counter += 1;
  return `${prefix}${counter}_${randomBytes(3).toString('hex')}`;
}

export function buildEndpoint<T extends Record<string, unknown> & { tenantId: string; url: string }>(overrides: T) {
  return { description: 'test endpoint', ...overrides };
}

export function buildEvent<T extends Record<string, unknown> & { tenantId: string }>(overrides: T) {
  return { type: 'sync.completed', payload: { syncId: `sync_${randomBytes(4).toString('hex')}`, rows: 42 }, ...overrides };
}

/** Another worker process-equivalent on the stack's task queue and database (several workers, one queue). */
export async function startExtraWorker(stack: TestStack): Promise<{ stop(): Promise<void> }> {
  const service = await startService(stack.config, {
    roles: ['worker'],
    embedded: false,
    log: createLogger(stack.config.logLevel),
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  return { stop: () => service.stop() };
}
