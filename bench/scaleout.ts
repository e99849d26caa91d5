/**
 * `--scenarios scaleout` (issue 11, step 5): the production topology as separate processes on this
 * machine — the Temporal server on Postgres (src/embedded/temporal-server.ts), two API processes and one, then
 * two, worker processes (each exactly what `npm run api` / `npm run worker` execs) — and the
 * deliveries a second each way: a burst of `--scaleout-events` events, spread over both APIs, to 10
 * one-endpoint tenants. Postgres is DATABASE_URL's, else an embedded one in a temp dir. CPU per role
 * shows where the time went (on 2 cores a second worker can only help if the first one was the limit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { Agent } from 'undici';
import { loadConfig } from '../src/config';
import { migrate } from '../src/db/pool';
import { freePort, startEmbeddedPostgres } from '../src/embedded/postgres';
import { startTemporalServer, type TemporalServer } from '../src/embedded/temporal-server';
import { obtainTool } from '../src/embedded/tools';
import { processTree } from './procs';
import { Receivers } from './receivers';
import { endpointGroup, postEvent, settle, summarize, type Ctx, type Options, type ScenarioResult, type Sent } from './scenarios';
import { benchLogger, type BenchStack } from './stack';
import { inPool, sleep } from './stats';
import { ensureBuilt, packageScript } from '../test/support/build';

export type ScaleoutOptions = {
  events: number;
  concurrency: number;
  receivers: number;
  out: string;
  settings: Record<string, string>;
  progress(line: string): void;
  json: boolean;
  opts: Options;
};

type Role = 'api' | 'worker' | 'temporal' | 'postgres';
type Phase = { workers: number; result: ScenarioResult; cpuPercent: Record<Role, number>; cpuMsPerDelivery: Record<Role, number> };
export type ScaleoutReport = { startedAt: string; machine: { cores: number; loadAverageStart: number[]; loadAverageEnd: number[] }; historyShards: number; phases: Phase[]; notes: string[] };

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** package.json's `api` / `worker` line (the production build) through sh, as npm runs it, so no npm process sits in between. */
function startRole(role: 'api' | 'worker', env: Record<string, string>): { child: ChildProcess; ready: Promise<string | undefined> } {
  const child = spawn('sh', ['-c', packageScript(role)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise<string | undefined>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} was not ready in 120 s:\n${output.slice(-4000)}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-16_000);
      const api = /"msg":"API listening"/.test(output) ? /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1] : undefined;
      if ((role === 'api' && api) || (role === 'worker' && /"msg":"worker running"/.test(output))) {
        clearTimeout(timer);
        resolveReady(api);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited with code ${code}:\n${output.slice(-4000)}`));
    });
  });
  return { child, ready };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

const CLK_TCK = 100;
function ticksOf(pids: number[]): number {
  return pids.flatMap((pid) => processTree(pid)).reduce((sum, p) => sum + p.ticks, 0);
}

export async function scaleout(o: ScaleoutOptions): Promise<ScaleoutReport> {
  const log = benchLogger();
  await ensureBuilt(log);
  const loadAverageStart = loadavg().map((x) => Math.round(x * 100) / 100);
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-scaleout-'));
  chmodSync(dir, 0o755);
  const config = loadConfig({ ...process.env, TEMPORAL_HISTORY_SHARDS: '4', ...o.settings });
  const stops: (() => Promise<unknown>)[] = [];
  const children: Record<Role, ChildProcess[]> = { api: [], worker: [], temporal: [], postgres: [] };
  const agent = new Agent({ connections: 512 });
  let connection: Connection | undefined;
  let receivers: Receivers | undefined;
  let postgresPid: number | undefined;
  try {
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      o.progress('[scaleout] starting Postgres (embedded, in a temp dir)');
      const pgServer = await startEmbeddedPostgres(join(dir, 'postgres'), log);
      stops.push(() => pgServer.stop());
      databaseUrl = pgServer.url;
      // The postmaster: the one postgres process whose parent is not a postgres process too.
      const tree = processTree(process.pid);
      postgresPid = tree.find((p) => p.comm === 'postgres' && !tree.some((q) => q.pid === p.ppid && q.comm === 'postgres'))?.pid;
    }
    await migrate(databaseUrl, log);
    const binary = await obtainTool('temporal-server', config.tools, log);
    const sqlTool = await obtainTool('temporal-sql-tool', config.tools, log);
    if (!binary || !sqlTool) throw new Error('the scale-out run needs the Temporal server: install Go, or set TEMPORAL_SERVER_PATH and TEMPORAL_SQL_TOOL_PATH');
    o.progress(`[scaleout] starting the Temporal server on Postgres, ${config.temporal.historyShards} history shards`);
    const port = await freePort();
    const server: TemporalServer = await startTemporalServer({
      binary, sqlTool, dataDir: join(dir, 'temporal-server'), postgresUrl: databaseUrl, tools: config.tools, port, namespace: 'default',
      historyShards: config.temporal.historyShards, metricsPort: 0, dynamicConfig: config.temporal.dynamicConfig, log,
    });
    stops.push(() => server.stop());

    const apiKey = `bench_${randomBytes(18).toString('base64url')}`;
    const taskQueue = `hookflow-scaleout-${randomBytes(4).toString('hex')}`;
    const env = {
      DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: taskQueue, API_KEYS: apiKey,
      ALLOW_PRIVATE_NETWORK: 'true', LOG_LEVEL: 'info', HOOKFLOW_DATA_DIR: join(dir, 'hookflow'), ...o.settings,
    };
    o.progress('[scaleout] starting two API processes and one worker process');
    const apis = [startRole('api', { ...env, PORT: String(await freePort()) }), startRole('api', { ...env, PORT: String(await freePort()) })];
    const workers = [startRole('worker', env)];
    children.api.push(...apis.map((a) => a.child));
    children.worker.push(workers[0]!.child);
    const apiUrls = (await Promise.all(apis.map((a) => a.ready))) as string[];
    await workers[0]!.ready;

    receivers = await Receivers.start(o.receivers);
    connection = await Connection.connect({ address: server.address });
    const temporal = new Client({ connection, namespace: 'default' });
    const serverPids = processTree(process.pid).filter((p) => p.comm === 'temporal-server').map((p) => p.pid);
    const ctxFor = (apiUrl: string): Ctx => {
      const stack: BenchStack = { mode: 'target', apiUrl, apiKey, temporalAddress: server.address, namespace: 'default', taskQueue, description: 'scale-out', log, stop: () => Promise.resolve() };
      return { stack, receivers: receivers!, temporal, opts: o.opts, runId: runId, agent, progress: (line: string) => o.progress(line), tenants };
    };
    const runId = randomBytes(3).toString('hex');
    const tenants = new Map<string, string[]>();
    const ctxs = apiUrls.map(ctxFor);
    const ids = await endpointGroup(ctxs[0]!, 'single', 10, 1);
    for (const c of ctxs) c.tenants.set('single', ids);

    const phases: Phase[] = [];
    for (const count of [1, 2]) {
      if (count === 2) {
        o.progress('[scaleout] starting the second worker process');
        const second = startRole('worker', env);
        workers.push(second);
        children.worker.push(second.child);
        await second.ready;
      }
      const warm = `w${count}`;
      await inPool(10, 10, async (n) => {
        await postEvent(ctxs[n % 2]!, warm, n, ids[n % ids.length]!);
      });
      while (receivers.deliveredCount(warm) < 10) await sleep(50);
      await settle(ctxs[0]!);

      const tag = `x${count}`;
      const pidsOf = (role: Role) => (role === 'temporal' || role === 'postgres' ? [] : children[role].map((c) => c.pid!));
      const before = { api: ticksOf(pidsOf('api')), worker: ticksOf(pidsOf('worker')), server: ticksOf(serverPids), postgres: postgresPid ? ticksOf([postgresPid]) : 0 };
      const startedAt = Date.now();
      o.progress(`[scaleout] ${count} worker(s): ${o.events} events, ${o.concurrency} in flight over two APIs`);
      const sents: Sent[] = [];
      await inPool(o.events, o.concurrency, async (n) => {
        sents.push(await postEvent(ctxs[n % 2]!, tag, n, ids[n % ids.length]!));
      });
      const expected = sents.filter((s) => s.ok).length;
      const deadline = Date.now() + o.opts.maxWait * 1000;
      while (receivers.deliveredCount(tag) < expected && Date.now() < deadline) await sleep(50);
      const waitEnded = Date.now();
      const wall = (waitEnded - startedAt) / 1000;
      const after = { api: ticksOf(pidsOf('api')), worker: ticksOf(pidsOf('worker')), server: ticksOf(serverPids), postgres: postgresPid ? ticksOf([postgresPid]) : 0 };
      const result = summarize({
        id: `${count} worker${count > 1 ? 's' : ''}`, title: `${o.events} events over 2 APIs, ${count} worker process${count > 1 ? 'es' : ''}`, sents, expectedDeliveries: expected,
        delivered: receivers.deliveredCount(tag), duplicates: receivers.duplicateCount(tag), lastArrival: receivers.lastArrival(tag),
        arrivals: (id) => receivers!.arrivals.get(id), perRequest: 1, waitEnded,
      });
      const cpu: Record<Role, number> = {
        api: (after.api - before.api) / CLK_TCK,
        worker: (after.worker - before.worker) / CLK_TCK,
        postgres: (after.postgres - before.postgres) / CLK_TCK,
        temporal: (after.server - before.server) / CLK_TCK,
      };
      const delivered = Math.max(1, result.delivered);
      phases.push({
        workers: count,
        result,
        cpuPercent: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round((v / wall) * 100)])) as Record<Role, number>,
        cpuMsPerDelivery: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round((v * 1000) / delivered)])) as Record<Role, number>,
      });
      o.progress(`[scaleout] ${count} worker(s): ${result.delivered}/${expected} delivered, ${result.deliveriesPerSecond} deliveries/s, p50 ${result.latencyMs?.p50} ms, p99 ${result.latencyMs?.p99} ms`);
      await settle(ctxs[0]!);
    }
    const report: ScaleoutReport = {
      startedAt: new Date().toISOString(),
      machine: { cores: cpus().length, loadAverageStart, loadAverageEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      historyShards: config.temporal.historyShards,
      phases,
      notes: [
        'processes: Temporal server (frontend, history, matching, worker services in one process) on Postgres; 2 × `npm run api`; 1, then 2 × `npm run worker`',
        postgresPid ? 'Postgres: embedded, in a temp dir' : 'Postgres: DATABASE_URL (its CPU is not measured here)',
      ],
    };
    mkdirSync(dirname(resolve(o.out)), { recursive: true });
    writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${renderScaleout(report)}\nJSON: ${o.out}\n`);
    return report;
  } finally {
    o.progress('[scaleout] stopping');
    await Promise.all([...children.worker, ...children.api].map(stopChild));
    await receivers?.stop().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await agent.close().catch(() => undefined);
    for (const stop of stops.reverse()) await stop().catch((err) => o.progress(`stopping: ${String(err)}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderScaleout(r: ScaleoutReport): string {
  const lines = [
    `Scale-out: Temporal server (${r.historyShards} history shards) on Postgres, 2 API processes, 1 then 2 worker processes; ${r.machine.cores} cores, load ${r.machine.loadAverageStart.join(' ')} → ${r.machine.loadAverageEnd.join(' ')}`,
    '| workers | delivered | deliveries/s | p50 ms | p99 ms | cpu api | cpu worker | cpu temporal | cpu postgres | ms CPU/delivery api · worker · temporal · postgres |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const p of r.phases) {
    const c = p.cpuPercent;
    const m = p.cpuMsPerDelivery;
    lines.push(`| ${p.workers} | ${p.result.delivered}/${p.result.expectedDeliveries} | ${p.result.deliveriesPerSecond ?? 'n/a'} | ${p.result.latencyMs?.p50 ?? '>wait'} | ${p.result.latencyMs?.p99 ?? '>wait'} | ${c.api}% | ${c.worker}% | ${c.temporal}% | ${c.postgres}% | ${m.api} · ${m.worker} · ${m.temporal} · ${m.postgres} |`);
  }
  lines.push(...r.notes.map((n) => `note: ${n}`));
  return lines.join('\n');
}
