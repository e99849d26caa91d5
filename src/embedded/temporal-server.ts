import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection, type TLSConfig } from '@temporalio/client';
import pg from 'pg';
import { msToTs } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../workflows/ids';
import { postgresClientConfig, postgresTls, type PostgresTls } from '../db/connection';
import { freePort } from './postgres';
import type { Logger } from '../observability/logger';
import { TEMPORAL_SERVER_VERSION, findGo, type ToolsConfig } from './tools';
import { engineDynamicConfig } from './engine-defaults';
import { stopServer } from './processes';

/**
 * TEMPORAL_ENGINE=server: the Temporal server itself (frontend, history, matching and worker services
 * in one process) on Postgres — hookflow's embedded one or DATABASE_URL's — instead of start-dev on
 * SQLite. It scales out (more history shards, services on more hosts; BENCHMARKS.md) where start-dev
 * stops at one core. It has no web UI: operators use `npm run temporal -- …` or run the temporalio/ui
 * image against TEMPORAL_ADDRESS.
 */
export type TemporalServer = { address: string; uiUrl: undefined; metricsUrl: string | undefined; exited: Promise<string>; stop(): Promise<void> };

export type TemporalServerOptions = {
  binary: string;
  sqlTool: string;
  /** Where the config and the chosen ports are kept. */
  dataDir: string;
  /**
   * hookflow's database URL: Temporal's two databases are created beside it on the same server, named
   * after it (`hookflow` → `hookflow_temporal`, `hookflow_temporal_visibility`), so two hookflows
   * sharing one Postgres server never share a Temporal.
   */
  postgresUrl: string;
  /** Where the Go toolchain and the schemas are found (src/config.ts). */
  tools: ToolsConfig;
  /** Frontend gRPC port (TEMPORAL_DEV_PORT). */
  port: number;
  namespace: string;
  /** History shards: fixed once the database exists (a later different value is refused by the server). */
  historyShards: number;
  /** 0 = no Prometheus endpoint. */
  metricsPort: number;
  dynamicConfig: [string, string][];
  log: Logger;
  /** Frontend TLS with required client certificates; unset = plain gRPC. */
  tls?: TemporalServerTls;
};

/**
 * The frontend over TLS, as a production cluster runs it: it presents `certFile`, accepts only clients
 * whose certificate `clientCaFile` signed, and its own system workers (Schedules, …) present `workerCertFile`.
 * What tests of TEMPORAL_TLS_* run against; hookflow's own probes below connect with the worker's certificate.
 */
export type TemporalServerTls = {
  certFile: string;
  keyFile: string;
  clientCaFile: string;
  /** The CA that signed `certFile`, for the system workers and the probes. */
  caFile: string;
  /** A name in `certFile` the system workers verify. */
  serverName: string;
  workerCertFile: string;
  workerKeyFile: string;
};

/**
 * On one host a task queue needs no partitions: they spread a queue over matching hosts, and with one
 * host each poll and each task is forwarded between partitions for nothing. TEMPORAL_DYNAMIC_CONFIG
 * overrides these.
 */
const SINGLE_HOST_DYNAMIC_CONFIG: [string, string][] = [
  ['matching.numTaskqueueReadPartitions', '1'],
  ['matching.numTaskqueueWritePartitions', '1'],
];

/** Closed workflows stay visible (and resettable) this long, as start-dev's default namespace keeps them. */
const RETENTION_MS = 24 * 3600 * 1000;

/** The module cache directory that holds the server's SQL schemas, which `go install` of the server brought in. */
export async function schemaDir(tools: ToolsConfig): Promise<string> {
  if (tools.schemaDir) return tools.schemaDir;
  const go = findGo(tools);
  const cache = go ? (await promisify(execFile)(go, ['env', 'GOMODCACHE'])).stdout.trim() : join(homedir(), 'go', 'pkg', 'mod');
  const dir = join(cache, `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
  if (!existsSync(join(dir, 'temporal', 'versioned'))) {
    throw new Error(`the Temporal server's Postgres schema is not at ${dir}: run \`go mod download go.temporal.io/server@${TEMPORAL_SERVER_VERSION}\` or set TEMPORAL_SCHEMA_DIR to its schema/postgresql/v12 directory`);
  }
  return dir;
}

async function ensureDatabases(adminUrl: URL, names: string[]): Promise<void> {
  const client = new pg.Client(postgresClientConfig(adminUrl.toString()));
  await client.connect();
  try {
    for (const name of names) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}

async function hasSchema(url: URL, database: string): Promise<boolean> {
  const u = new URL(url);
  u.pathname = `/${database}`;
  const client = new pg.Client(postgresClientConfig(u.toString()));
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'");
    return Boolean(rowCount);
  } finally {
    await client.end();
  }
}

/** Creates the schema of a fresh database and brings an existing one up to this server version. */
async function setUpSchema(o: TemporalServerOptions, url: URL, database: string, versioned: string): Promise<void> {
  const args = [
    '--plugin', 'postgres12', '--ep', url.hostname, '-p', url.port || '5432', '-u', decodeURIComponent(url.username), '--db', database,
    ...sqlToolTls(databaseTls(url)),
  ];
  // The password goes in the environment, not on a command line other users can read.
  // eslint-disable-next-line no-restricted-properties -- handed to the child, not read
  const env = { ...process.env, SQL_PASSWORD: decodeURIComponent(url.password) };
  const run = (more: string[]) => promisify(execFile)(o.sqlTool, [...args, ...more], { env, maxBuffer: 16 * 1024 * 1024 });
  if (!(await hasSchema(url, database))) await run(['setup-schema', '-v', '0.0']);
  await run(['update-schema', '-d', versioned]);
}

/** DATABASE_URL's TLS (src/db/connection.ts), which src/config.ts has checked already. */
function databaseTls(url: URL): PostgresTls | undefined {
  const tls = postgresTls(url.toString());
  if ('error' in tls) throw new Error(tls.error);
  return tls.ok;
}

/**
 * The same TLS for the server's lib/pq (the sql store's `tls` block) and temporal-sql-tool (its flags).
 * Without host verification lib/pq's sslmode is require, which with a CA verifies the chain as libpq's
 * verify-ca does; with it, verify-full. `system` CAs: no CA file, and Go's system pool.
 */
function sqlStoreTls(tls: PostgresTls | undefined) {
  if (!tls) return {};
  return {
    tls: {
      enabled: true,
      enableHostVerification: tls.mode === 'verify-full',
      ...(tls.ca ? { caFile: tls.ca.path } : {}),
      ...(tls.client ? { certFile: tls.client.cert.path, keyFile: tls.client.key.path } : {}),
    },
  };
}

function sqlToolTls(tls: PostgresTls | undefined): string[] {
  if (!tls) return [];
  return [
    '--tls',
    ...(tls.mode === 'verify-full' ? [] : ['--tls-disable-host-verification']),
    ...(tls.ca ? ['--tls-ca-file', tls.ca.path] : []),
    ...(tls.client ? ['--tls-cert-file', tls.client.cert.path, '--tls-key-file', tls.client.key.path] : []),
  ];
}

type Ports = { frontendHttp: number; frontendMembership: number; history: number; historyMembership: number; matching: number; matchingMembership: number; worker: number; workerMembership: number };

/**
 * The services' internal ports, chosen once and kept in the data dir: the cluster membership table
 * remembers hosts by address, so a restart on new ports would wait for the old entries to expire.
 */
async function internalPorts(file: string, frontend: number): Promise<Ports> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Ports;
  const taken = new Set([frontend]);
  const pick = async () => {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    return port;
  };
  // The cluster_membership table keeps the membership port as a smallint: it must be below 32768,
  // where the kernel's ephemeral ports (what port 0 hands out) do not reach.
  const pickMembership = async () => {
    for (;;) {
      const port = 20_000 + randomInt(12_000);
      if (!taken.has(port) && (await portFree(port))) {
        taken.add(port);
        return port;
      }
    }
  };
  const ports: Ports = {
    frontendHttp: await pick(), frontendMembership: await pickMembership(), history: await pick(), historyMembership: await pickMembership(),
    matching: await pick(), matchingMembership: await pickMembership(), worker: await pick(), workerMembership: await pickMembership(),
  };
  writeFileSync(file, `${JSON.stringify(ports, null, 2)}\n`);
  return ports;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * A dynamic-config value as start-dev's `--dynamic-config-value` reads it (JSON: `512`, `true`, `"30s"`),
 * so one TEMPORAL_DYNAMIC_CONFIG serves both engines; a bare word is taken as a string.
 */
function dynamicValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The server's config. JSON is YAML, so no YAML writer is needed. */
function serverConfig(o: TemporalServerOptions, url: URL, ports: Ports, databases: { main: string; visibility: string }, dynamicConfigFile: string) {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${url.hostname}:${url.port || '5432'}`,
      connectProtocol: 'tcp',
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      // Four services share each pool's limit in one process; Postgres's default max_connections is 100.
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
      ...sqlStoreTls(databaseTls(url)),
    },
  });
  const service = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: '127.0.0.1', ...(httpPort ? { httpPort } : {}) },
  });
  const tls = o.tls && {
    frontend: { server: { certFile: o.tls.certFile, keyFile: o.tls.keyFile, clientCaFiles: [o.tls.clientCaFile], requireClientAuth: true } },
    systemWorker: { certFile: o.tls.workerCertFile, keyFile: o.tls.workerKeyFile, client: { serverName: o.tls.serverName, rootCaFiles: [o.tls.caFile] } },
  };
  return {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: o.historyShards,
      datastores: { default: store(databases.main, 12), visibility: store(databases.visibility, 4) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      ...(tls ? { tls } : {}),
      ...(o.metricsPort ? { metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${o.metricsPort}` } } } : {}),
    },
    services: {
      frontend: service(o.port, ports.frontendMembership, ports.frontendHttp),
      history: service(ports.history, ports.historyMembership),
      matching: service(ports.matching, ports.matchingMembership),
      worker: service(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${o.port}`, httpAddress: `127.0.0.1:${ports.frontendHttp}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '60s' },
  };
}

export function temporalDatabases(postgresUrl: string): { main: string; visibility: string } {
  const base = decodeURIComponent(new URL(postgresUrl).pathname.replace(/^\//, '')) || 'postgres';
  return { main: `${base}_temporal`, visibility: `${base}_temporal_visibility` };
}

export async function startTemporalServer(o: TemporalServerOptions): Promise<TemporalServer> {
  const configDir = join(o.dataDir, 'config');
  mkdirSync(configDir, { recursive: true });
  const url = new URL(o.postgresUrl);
  const databases = temporalDatabases(o.postgresUrl);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  await ensureDatabases(admin, [databases.main, databases.visibility]);
  const schemas = await schemaDir(o.tools);
  await setUpSchema(o, url, databases.main, join(schemas, 'temporal', 'versioned'));
  await setUpSchema(o, url, databases.visibility, join(schemas, 'visibility', 'versioned'));

  const ports = await internalPorts(join(o.dataDir, 'ports.json'), o.port);
  const dynamicConfigFile = join(o.dataDir, 'dynamicconfig.yaml');
  const dynamic = new Map(engineDynamicConfig([...SINGLE_HOST_DYNAMIC_CONFIG, ...o.dynamicConfig]));
  writeFileSync(dynamicConfigFile, `${JSON.stringify(Object.fromEntries([...dynamic].map(([key, value]) => [key, [{ value: dynamicValue(value) }]])), null, 2)}\n`);
  // Written at every start (it holds the database password: owner-only), so a changed setting applies.
  writeFileSync(join(configDir, 'development.yaml'), `${JSON.stringify(serverConfig(o, url, ports, databases, dynamicConfigFile), null, 2)}\n`, { mode: 0o600 });

  const child = spawn(o.binary, ['--root', o.dataDir, '--config', 'config', '--env', 'development', 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)));
  const address = `127.0.0.1:${o.port}`;
  const target: Target = { address, tls: o.tls ? clientTls(o.tls) : false };
  try {
    await waitForFrontend(target, exited, () => output);
    await registerNamespace(target, o.namespace);
    await waitForVisibility(target, o.namespace, exited, () => output);
  } catch (err) {
    await stopChild(child, exited, o.log);
    throw err;
  }
  const metricsUrl = o.metricsPort ? `http://127.0.0.1:${o.metricsPort}/metrics` : undefined;
  o.log.info({ address, shards: o.historyShards, databases }, 'Temporal server ready (no web UI: use `npm run temporal` or the temporalio/ui image)');
  return { address, uiUrl: undefined, metricsUrl, exited, stop: () => stopChild(child, exited, o.log) };
}

async function poll<T>(what: string, exited: Promise<string>, output: () => string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 180_000;
  let exit: string | undefined;
  void exited.then((reason) => {
    exit = reason;
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`the Temporal server exited (${exit}) before ${what}:\n${output()}`);
    try {
      return await attempt();
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(`the Temporal server did not reach "${what}" in 180 s: ${String(lastError)}\n${output()}`);
}

/** Where the probes below connect, as a client the server accepts. */
type Target = { address: string; tls: TLSConfig | false };

function clientTls(tls: TemporalServerTls): TLSConfig {
  return {
    serverRootCACertificate: readFileSync(tls.caFile),
    clientCertPair: { crt: readFileSync(tls.workerCertFile), key: readFileSync(tls.workerKeyFile) },
    serverNameOverride: tls.serverName,
  };
}

async function withConnection<T>(target: Target, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ ...target, connectTimeout: 1_000 });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

/** The frontend answers once its services have joined: the system namespace is then readable. */
function waitForFrontend(target: Target, exited: Promise<string>, output: () => string) {
  return poll('the frontend answers', exited, output, () =>
    withConnection(target, (c) => c.workflowService.describeNamespace({ namespace: 'temporal-system' })),
  );
}

/** hookflow's namespace and its search attributes (`ids.ts`), created when missing; idempotent. */
async function registerNamespace(target: Target, namespace: string): Promise<void> {
  await withConnection(target, async (c) => {
    try {
      await c.workflowService.describeNamespace({ namespace });
    } catch {
      await c.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION_MS) }).catch((err: { code?: number }) => {
        // 6 = ALREADY_EXISTS: another process registered it in between.
        if (err.code !== 6) throw err;
      });
    }
  });
  // A namespace just registered reaches every service's cache within seconds; until then adding attributes fails.
  await poll('search attributes added', new Promise(() => undefined), () => '', () =>
    withConnection(target, async (c) => {
      const existing = await c.operatorService.listSearchAttributes({ namespace });
      const missing = Object.values(SEARCH_ATTRIBUTES).filter((key) => !(key.name in (existing.customAttributes ?? {})));
      if (missing.length === 0) return;
      await c.operatorService.addSearchAttributes({
        namespace,
        // 2 = INDEXED_VALUE_TYPE_KEYWORD
        searchAttributes: Object.fromEntries(missing.map((key) => [key.name, 2])),
      });
    }),
  );
}

/** Ready for hookflow: a visibility query on its namespace answers. */
function waitForVisibility(target: Target, namespace: string, exited: Promise<string>, output: () => string) {
  return poll('visibility answers', exited, output, () =>
    withConnection(target, (c) => c.workflowService.countWorkflowExecutions({ namespace, query: `${SEARCH_ATTRIBUTES.tenantId.name} = "readiness"` })),
  );
}

function stopChild(child: ChildProcess, exited: Promise<string>, log: Logger): Promise<void> {
  return stopServer(child, exited, { name: 'Temporal server', signal: 'SIGTERM', escalation: 'SIGKILL', graceMs: 15_000, log });
}
