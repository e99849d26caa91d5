import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_FLAGS } from '../../workflows/ids';
import type { Logger } from '../observability/logger';
import { whenMissing } from './optional-dependency';
import { spawnEmbedded, stopServer } from './processes';
import { engineDynamicConfig } from './engine-defaults';
import { exitReason, type EmbeddedProcess } from './supervisor';

export type DevServer = EmbeddedProcess & { address: string; uiUrl: string };

/** How long a start waits for the ports of a killed predecessor to be released. */
const PORT_WAIT_MS = 15_000;

export type DevServerOptions = {
  binary: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  log: Logger;
  /** Prometheus `/metrics` on 127.0.0.1 (persistence request counters, cache sizes); 0 or unset = none. */
  metricsPort?: number;
  /** `--dynamic-config-value KEY=VALUE` each (values are JSON: `512`, `true`, `"text"`), over ENGINE_DYNAMIC_CONFIG. */
  dynamicConfig?: [string, string][];
  /** SQLite pragmas over the defaults below; a key given here replaces the default's value. */
  sqlitePragmas?: [string, string][];
};

/**
 * `temporal server start-dev` on a SQLite file under the data dir, so workflows survive a restart.
 * WAL with synchronous=NORMAL keeps every commit across a process crash (only an OS crash can lose the
 * last ones) and is much faster than the default rollback journal.
 */
const DEFAULT_SQLITE_PRAGMAS: [string, string][] = [['journal_mode', 'wal'], ['synchronous', 'normal']];

export function sqlitePragmaArgs(overrides: [string, string][] = []): string[] {
  const pragmas = new Map([...DEFAULT_SQLITE_PRAGMAS, ...overrides]);
  return [...pragmas].flatMap(([key, value]) => ['--sqlite-pragma', `${key}=${value}`]);
}

/** The engine settings beyond ports and files: metrics, dynamic config, pragmas. */
function tuningArgs(o: Pick<DevServerOptions, 'metricsPort' | 'dynamicConfig' | 'sqlitePragmas'>): string[] {
  return [
    ...sqlitePragmaArgs(o.sqlitePragmas),
    ...(o.metricsPort ? ['--metrics-port', String(o.metricsPort)] : []),
    ...engineDynamicConfig(o.dynamicConfig).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]),
  ];
}

/**
 * start-dev picks its HTTP API port itself (a free one at that moment); another process can take it before the
 * server binds it. That start is tried again: the port it picks next time is another.
 */
const HTTP_PORT_TAKEN = /failed listening for HTTP API on [^ ]+: listen tcp [^ ]+: bind: address already in use/;
const START_TRIES = 3;

export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startDevServerOnce(o);
    } catch (err) {
      if (attempt >= START_TRIES || !HTTP_PORT_TAKEN.test((err as Error).message)) throw err;
      o.log.warn({ attempt }, 'the dev server lost the HTTP API port it picked to another process; starting it again');
    }
  }
}

async function startDevServerOnce(o: DevServerOptions): Promise<DevServer> {
  mkdirSync(o.dataDir, { recursive: true });
  const address = `127.0.0.1:${o.port}`;
  const args = [
    'server', 'start-dev',
    '--db-filename', join(o.dataDir, 'temporal.sqlite'),
    '--ip', '127.0.0.1',
    '--port', String(o.port),
    '--ui-port', String(o.uiPort),
    '--log-level', 'warn',
    ...tuningArgs(o),
    ...SEARCH_ATTRIBUTE_FLAGS.flatMap((flag) => ['--search-attribute', flag]),
    ...(o.namespace === 'default' ? [] : ['--namespace', o.namespace]),
  ];
  await waitForFreePort(o.port, 'TEMPORAL_DEV_PORT');
  await waitForFreePort(o.uiPort, 'TEMPORAL_UI_PORT');
  const child = spawnEmbedded(o.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = exitReason(child);

  try {
    await waitUntilServing(address, o.namespace, exited, () => output);
  } catch (err) {
    await stopChild(child, exited, o.log);
    throw err;
  }
  o.log.info({ address, ui: `http://127.0.0.1:${o.uiPort}`, serverPid: child.pid }, 'Temporal dev server ready');
  return { address, uiUrl: `http://127.0.0.1:${o.uiPort}`, exited, stop: () => stopChild(child, exited, o.log) };
}

/**
 * The fallback for a machine with internet but neither the Temporal CLI nor Go: the SDK downloads the
 * dev server (`cached-download`) and runs it with the same database file, ports and search attributes.
 */
export async function startSdkDevServer(o: Omit<DevServerOptions, 'binary'> & { executable: EphemeralServerExecutable }): Promise<DevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing').catch(
    whenMissing('@temporalio/testing', 'downloading a Temporal dev server when no Temporal CLI is found', 'set TEMPORAL_CLI_PATH to a Temporal CLI, or TEMPORAL_ADDRESS to a Temporal server'),
  );
  mkdirSync(o.dataDir, { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: o.executable,
      dbFilename: join(o.dataDir, 'temporal.sqlite'),
      namespace: o.namespace,
      ip: '127.0.0.1',
      port: o.port,
      ui: true,
      uiPort: o.uiPort,
      log: { format: 'json', level: 'warn' },
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: tuningArgs(o),
    },
  });
  const address = `127.0.0.1:${o.port}`;
  o.log.info({ address, ui: `http://127.0.0.1:${o.uiPort}` }, 'Temporal dev server (SDK download) ready');
  let stopped = false;
  return {
    address,
    uiUrl: `http://127.0.0.1:${o.uiPort}`,
    exited: refusedFor(o.port, () => stopped),
    stop: async () => {
      stopped = true;
      await env.teardown();
    },
  };
}

/**
 * The SDK keeps its server process to itself, so its death shows as the port refusing connections
 * three times in a row, two seconds apart.
 */
async function refusedFor(port: number, stopped: () => boolean): Promise<string> {
  let refusals = 0;
  while (refusals < 3) {
    await new Promise((r) => setTimeout(r, 2_000).unref());
    if (stopped()) return 'stopped';
    refusals = (await accepts(port)) ? 0 : refusals + 1;
  }
  return `port ${port} refuses connections`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A killed predecessor's dev server may hold the ports for a moment after its parent is gone;
 * a port that stays taken is another program's, and the sentence names the variable to change.
 */
async function waitForFreePort(port: number, variable: string): Promise<void> {
  const deadline = Date.now() + PORT_WAIT_MS;
  for (;;) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return;
    if (Date.now() > deadline) throw new Error(`Port ${port} (${variable}) is still in use after ${PORT_WAIT_MS / 1000} s: stop the program using it or set ${variable} to a free port.`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Ready means a namespace call and a visibility query answer, not just an open port: after a crash the
 * server accepts connections for a while before its shards are owned again ("not enough hosts").
 */
async function waitUntilServing(address: string, namespace: string, exited: Promise<string>, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let exitedWith: string | undefined;
  void exited.then((reason) => {
    exitedWith = reason;
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) throw new Error(`temporal server start-dev exited (${exitedWith}):\n${output()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        await connection.workflowService.countWorkflowExecutions({ namespace, query: '' });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`Temporal dev server at ${address} did not become ready in 120 s: ${String(lastError)}\n${output()}`);
}

function stopChild(child: ChildProcess, exited: Promise<string>, log: Logger): Promise<void> {
  return stopServer(child, exited, { name: 'Temporal dev server', signal: 'SIGTERM', escalation: 'SIGKILL', graceMs: 10_000, log });
}
