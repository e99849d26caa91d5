/**
 * The hookflow under test: by default the whole embedded stack in this process (`startService` with
 * both roles, as `npm start` runs it) on a fresh data dir, or, with BENCH_TARGET_URL, an API that
 * already runs. TEMPORAL_ADDRESS and DATABASE_URL, when set, replace the embedded server and database.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config';
import { freePort } from '../src/embedded-postgres';
import type { Logger } from '../src/logger';
import { startService } from '../src/service';

export type BenchStack = {
  /** `in-process`: API and worker run in this Node process, so its RSS and CPU are theirs. */
  mode: 'in-process' | 'target';
  apiUrl: string;
  apiKey: string;
  /** Known unless BENCH_TARGET_URL is used without TEMPORAL_ADDRESS; needed by scenario d. */
  temporalAddress?: string;
  namespace: string;
  /** hookflow's task queue, to wait for its workflows to finish between scenarios. */
  taskQueue: string;
  /** What runs where, for the report. */
  description: string;
  /** The embedded engine's Prometheus endpoint, when it serves one (TEMPORAL_ENGINE_METRICS_PORT). */
  engineMetricsUrl?: string;
  /** The data dir of the embedded stack (the soak scenario reports its size). */
  dataDir?: string;
  log: Logger;
  stop(): Promise<void>;
};

/** Logs go to stderr, so `--json` leaves stdout to the result. */
export function benchLogger(): Logger {
  return pino({ level: 'warn', base: { service: 'hookflow' } }, pino.destination({ dest: 2, sync: false }));
}

/** `settings`: environment overrides for the embedded stack (engine, dynamic config, worker options), from the bench's flags. */
export async function startStack(log: Logger, settings: Record<string, string> = {}): Promise<BenchStack> {
  const env = { ...process.env, ...settings };
  if (env.BENCH_TARGET_URL) {
    if (!env.BENCH_API_KEY) throw new Error('BENCH_TARGET_URL needs BENCH_API_KEY, a key of that API');
    return {
      mode: 'target',
      apiUrl: env.BENCH_TARGET_URL.replace(/\/+$/, ''),
      apiKey: env.BENCH_API_KEY,
      temporalAddress: env.TEMPORAL_ADDRESS,
      engineMetricsUrl: env.BENCH_ENGINE_METRICS_URL,
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'hookflow',
      description: `hookflow API at ${env.BENCH_TARGET_URL} (started elsewhere; its processes are not measured)`,
      log,
      stop: () => Promise.resolve(),
    };
  }

  // Embedded Postgres runs as the `postgres` OS user when we are root: it must be able to enter the dir.
  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-bench-'));
  chmodSync(dataDir, 0o755);
  const devPort = await freePort();
  let uiPort = await freePort();
  while (uiPort === devPort) uiPort = await freePort();
  const apiKey = `bench_${randomBytes(18).toString('base64url')}`;
  const config = loadConfig({
    ...env,
    PORT: '0',
    HOOKFLOW_DATA_DIR: dataDir,
    TEMPORAL_DEV_PORT: String(devPort),
    TEMPORAL_UI_PORT: String(uiPort),
    // A queue of its own, so a benchmark against a shared Temporal server takes no one else's tasks.
    TEMPORAL_TASK_QUEUE: env.TEMPORAL_TASK_QUEUE ?? `hookflow-bench-${randomBytes(4).toString('hex')}`,
    ALLOW_PRIVATE_NETWORK: 'true',
    API_KEYS: apiKey,
    LOG_LEVEL: 'warn',
  });
  let service;
  try {
    service = await startService(config, { roles: ['api', 'worker'], embedded: true, log });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const engine = config.temporal.engine === 'server' ? 'embedded Temporal server (Postgres)' : 'embedded Temporal dev server (SQLite, WAL)';
  const temporal = config.temporal.address ? `Temporal at ${config.temporal.address}` : engine;
  const postgres = config.databaseUrl ? 'Postgres at DATABASE_URL' : 'embedded Postgres';
  return {
    mode: 'in-process',
    apiUrl: service.apiUrl!,
    apiKey,
    temporalAddress: service.temporalAddress,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    description: `API + worker in the benchmark's Node process, ${temporal}, ${postgres}`,
    engineMetricsUrl: config.temporal.engineMetricsPort && !config.temporal.address ? `http://127.0.0.1:${config.temporal.engineMetricsPort}/metrics` : env.BENCH_ENGINE_METRICS_URL,
    dataDir,
    log,
    async stop() {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
