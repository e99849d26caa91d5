import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, type Config } from '../config';
import type { Logger } from '../observability/logger';
import { startDevServer, startSdkDevServer } from './dev-server';
import { freePort, startEmbeddedPostgres as startPostgres } from './postgres';
import { supervise, type EmbeddedProcess, type SuperviseOptions } from './supervisor';
import { startTemporalServer } from './temporal-server';
import { obtainTool } from './tools';

/**
 * What `hookflow start` runs for itself when DATABASE_URL or TEMPORAL_ADDRESS is unset: Postgres and a
 * Temporal engine as supervised child processes on the data dir. The product's code (the API, the worker,
 * the workflows and activities) never imports this folder: src/service.ts hands it the addresses.
 */
export type Supervision = Pick<SuperviseOptions<EmbeddedProcess>, 'log' | 'attempts' | 'onGiveUp' | 'isStopping'>;

/** The embedded Postgres under `dataDir/postgres`, restarted on the same port when it dies. */
export async function startEmbeddedPostgres(dataDir: string, supervision: Supervision): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const postgres = await supervise({ name: 'Postgres', ...supervision, start: () => startPostgres(join(dataDir, 'postgres'), supervision.log, port) });
  return { url: postgres.current().url, stop: () => postgres.stop() };
}

/** The embedded Temporal engine TEMPORAL_ENGINE names (docs/engine.md), restarted on the same ports when it dies. */
export async function startEmbeddedTemporal(
  config: Config,
  dataDir: string,
  databaseUrl: string,
  supervision: Supervision,
): Promise<{ address: string; uiUrl?: string; stop(): Promise<void> }> {
  const { log } = supervision;
  const server = await supervise({
    name: config.temporal.engine === 'server' ? 'Temporal server' : 'Temporal dev server',
    ...supervision,
    start: () => (config.temporal.engine === 'server' ? startServerEngine(config, dataDir, databaseUrl, log) : startDevEngine(config, dataDir, log)),
  });
  return { address: server.current().address, uiUrl: server.current().uiUrl, stop: () => server.stop() };
}

/** TEMPORAL_ENGINE=dev (the default): `temporal server start-dev` on SQLite, with its UI. */
async function startDevEngine(config: Config, dataDir: string, log: Logger): Promise<EmbeddedProcess & { address: string; uiUrl?: string }> {
  const binary = await obtainTool('temporal', config.tools, log);
  const serverOptions = {
    dataDir: join(dataDir, 'temporal'), port: config.temporal.devPort, uiPort: config.temporal.uiPort, namespace: config.temporal.namespace, log,
    metricsPort: config.temporal.engineMetricsPort,
    dynamicConfig: config.temporal.dynamicConfig,
    sqlitePragmas: config.temporal.sqlitePragmas,
  };
  if (!binary) log.warn('no Temporal CLI and no Go: downloading the dev server through the Temporal SDK');
  return binary
    ? startDevServer({ binary, ...serverOptions })
    : startSdkDevServer({ executable: { type: 'cached-download' }, ...serverOptions });
}

/** TEMPORAL_ENGINE=server: the Temporal server on the same Postgres as hookflow (src/embedded/temporal-server.ts). */
async function startServerEngine(config: Config, dataDir: string, databaseUrl: string, log: Logger): Promise<EmbeddedProcess & { address: string; uiUrl?: string }> {
  const binary = await obtainTool('temporal-server', config.tools, log);
  const sqlTool = binary && (await obtainTool('temporal-sql-tool', config.tools, log));
  if (!binary || !sqlTool) {
    throw new ConfigError('TEMPORAL_ENGINE=server needs Go to build the Temporal server once, or TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH (with TEMPORAL_SCHEMA_DIR) pointing at a build of it.');
  }
  return startTemporalServer({
    binary,
    sqlTool,
    dataDir: join(dataDir, 'temporal-server'),
    postgresUrl: databaseUrl,
    tools: config.tools,
    port: config.temporal.devPort,
    namespace: config.temporal.namespace,
    historyShards: config.temporal.historyShards,
    metricsPort: config.temporal.engineMetricsPort,
    dynamicConfig: config.temporal.dynamicConfig,
    log,
  });
}

/**
 * `hookflow start` without API_KEYS: one key is generated, kept in the data dir (readable by its owner
 * only) and reused on later starts. Returns the key and whether it is new, so it is printed only once.
 */
export function embeddedApiKey(dataDir: string): { key: string; created: boolean; path: string } {
  const path = join(resolve(dataDir), 'api-key');
  if (existsSync(path)) return { key: readFileSync(path, 'utf8').trim(), created: false, path };
  mkdirSync(resolve(dataDir), { recursive: true });
  const key = `hf_${randomBytes(24).toString('base64url')}`;
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return { key, created: true, path };
}
