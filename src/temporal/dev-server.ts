import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment, type EphemeralServerExecutable } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_FLAGS } from '../../workflows/ids';
import type { Logger } from '../logger';

export type DevServer = { address: string; uiUrl: string; stop(): Promise<void> };

export type DevServerOptions = {
  binary: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  log: Logger;
  /** Prometheus `/metrics` on 127.0.0.1 (persistence request counters, cache sizes); 0 or unset = none. */
  metricsPort?: number;
  /** `--dynamic-config-value KEY=VALUE` each (values are JSON: `512`, `true`, `"text"`). */
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
    ...(o.dynamicConfig ?? []).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]),
  ];
}

export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
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
  const child = spawn(o.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  try {
    await waitUntilServing(address, o.namespace, exited, () => output);
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
  o.log.info({ address, ui: `http://127.0.0.1:${o.uiPort}` }, 'Temporal dev server ready');
  return { address, uiUrl: `http://127.0.0.1:${o.uiPort}`, stop: () => stopChild(child, exited) };
}

/**
 * The fallback for a machine with internet but neither the Temporal CLI nor Go: the SDK downloads the
 * dev server (`cached-download`) and runs it with the same database file, ports and search attributes.
 */
export async function startSdkDevServer(o: Omit<DevServerOptions, 'binary'> & { executable: EphemeralServerExecutable }): Promise<DevServer> {
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
  return { address, uiUrl: `http://127.0.0.1:${o.uiPort}`, stop: () => env.teardown() };
}

/**
 * Ready means a namespace call and a visibility query answer, not just an open port: after a crash the
 * server accepts connections for a while before its shards are owned again ("not enough hosts").
 */
async function waitUntilServing(address: string, namespace: string, exited: Promise<number | null>, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`temporal server start-dev exited with code ${exitCode}:\n${output()}`);
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

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
