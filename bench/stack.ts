/**
 * The hookflow under test, on a fresh data dir: by default `npm start` itself (the production build,
 * `node bin/hookflow.js start`) as a child process, so its tree is what is measured; with `--stack
 * in-process`, the same service started in this process from the sources; or, with BENCH_TARGET_URL, an
 * API that already runs. TEMPORAL_ADDRESS and DATABASE_URL, when set, replace the embedded server and database.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { request } from 'undici';
import { loadConfig, type Config } from '../src/config';
import { freePort } from '../src/embedded/postgres';
import type { Logger } from '../src/observability/logger';
import { PACKAGE_ROOT } from '../src/lib/paths';
import { spawnEmbedded } from '../src/embedded/processes';
import { exitReason } from '../src/embedded/supervisor';
import { startService } from '../src/service';
import { ensureBuilt, packageScript } from '../test/support/build';
import { sleep } from './stats';

/** `npm-start`: hookflow is `npm start` in a child process; `in-process`: it runs in this one. */
export type StackKind = 'npm-start' | 'in-process';

export type BenchStack = {
  /** `in-process`: API and worker run in this Node process, so its RSS and CPU are theirs. */
  mode: StackKind | 'target';
  /** hookflow's own process (this one when in-process), whose tree is measured; none for a target. */
  pid?: number;
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
export async function startStack(log: Logger, settings: Record<string, string> = {}, kind: StackKind = 'npm-start'): Promise<BenchStack> {
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

  // Ports are picked free here and bound by the child later; one taken by another process in between is picked again.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startEmbeddedStack(log, env, kind);
    } catch (err) {
      if (attempt >= 3 || !PORT_TAKEN.test((err as Error).message)) throw err;
      log.warn({ attempt }, 'a port picked for the stack was taken before it was bound; starting again on others');
    }
  }
}

const PORT_TAKEN = /EADDRINUSE|address already in use/;

async function startEmbeddedStack(log: Logger, env: Record<string, string | undefined>, kind: StackKind): Promise<BenchStack> {
  // Embedded Postgres runs as the `postgres` OS user when we are root: it must be able to enter the dir.
  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-bench-'));
  chmodSync(dataDir, 0o755);
  const devPort = await freePort();
  let uiPort = await freePort();
  while (uiPort === devPort) uiPort = await freePort();
  let apiPort = await freePort();
  while (apiPort === devPort || apiPort === uiPort) apiPort = await freePort();
  const apiKey = `bench_${randomBytes(18).toString('base64url')}`;
  const serviceEnv = {
    ...env,
    // npm start listens on PORT; in this process the service may pick one itself.
    PORT: kind === 'npm-start' ? String(apiPort) : '0',
    HOOKFLOW_DATA_DIR: dataDir,
    TEMPORAL_DEV_PORT: String(devPort),
    TEMPORAL_UI_PORT: String(uiPort),
    // A queue of its own, so a benchmark against a shared Temporal server takes no one else's tasks.
    TEMPORAL_TASK_QUEUE: env.TEMPORAL_TASK_QUEUE ?? `hookflow-bench-${randomBytes(4).toString('hex')}`,
    ALLOW_PRIVATE_NETWORK: 'true',
    API_KEYS: apiKey,
    LOG_LEVEL: 'warn',
  };
  let config: Config;
  try {
    config = loadConfig(serviceEnv);
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const engine = config.temporal.engine === 'server' ? 'embedded Temporal server (Postgres)' : 'embedded Temporal dev server (SQLite, WAL)';
  const temporal = config.temporal.address ? `Temporal at ${config.temporal.address}` : engine;
  const postgres = config.databaseUrl ? 'Postgres at DATABASE_URL' : 'embedded Postgres';
  const common = {
    apiKey,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    engineMetricsUrl: config.temporal.engineMetricsPort && !config.temporal.address ? `http://127.0.0.1:${config.temporal.engineMetricsPort}/metrics` : env.BENCH_ENGINE_METRICS_URL,
    dataDir,
    log,
  };
  try {
    if (kind === 'npm-start') {
      const child = await startNpmStart(config, serviceEnv, log);
      return {
        ...common,
        mode: 'npm-start',
        pid: child.process.pid,
        apiUrl: child.apiUrl,
        temporalAddress: config.temporal.address ?? `127.0.0.1:${devPort}`,
        description: `\`npm start\`'s command (node bin/hookflow.js start, the production build) in a child process: API + worker, ${temporal}, ${postgres}`,
        async stop() {
          await child.stop();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    const service = await startService(config, { roles: ['api', 'worker'], embedded: true, log });
    return {
      ...common,
      mode: 'in-process',
      pid: process.pid,
      apiUrl: service.apiUrl!,
      temporalAddress: service.temporalAddress,
      description: `API + worker in the benchmark's Node process (sources through tsx), ${temporal}, ${postgres}`,
      async stop() {
        await service.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `npm start`'s command — `node bin/hookflow.js start` with its environment — rebuilt first when
 * a source is newer than dist/. Ready when its `GET /readyz` answers 200 (Postgres and Temporal answer).
 */
async function startNpmStart(config: Config, env: Record<string, string | undefined>, log: Logger): Promise<{ process: ChildProcess; apiUrl: string; stop(): Promise<void> }> {
  await ensureBuilt(log);
  // Its log (stdout) is kept, not printed, so `--json` leaves stdout to the report; a failed start shows its end.
  // package.json's `start` line through sh, as npm runs it (its `exec` leaves node in sh's place), without npm's own
  // process; as an embedded process, so it dies with the benchmark however that ends.
  const child = spawnEmbedded('sh', ['-c', packageScript('start')], { cwd: PACKAGE_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  });
  const exited = exitReason(child);
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  const apiUrl = `http://127.0.0.1:${config.port}`;
  const stop = async () => {
    if (ended()) return;
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(killer);
  };
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (ended()) throw new Error(`npm start ended (${await exited}) before it was ready; its log ended:\n${output}`);
    const ready = await request(`${apiUrl}/readyz`).then(
      async (res) => {
        await res.body.dump();
        return res.statusCode === 200;
      },
      () => false,
    );
    if (ready) return { process: child, apiUrl, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error('npm start was not ready within 300 s');
    }
    await sleep(250);
  }
}
