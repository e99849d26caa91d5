/**
 * `npm run bench` (issue 5): starts hookflow (`npm start`'s command in a child process, or with --stack in-process in this one; or uses BENCH_TARGET_URL),
 * real receivers in a child process, and runs the scenarios; progress on stderr, a table or --json on
 * stdout. See BENCHMARKS.md for what each figure means and one run's results.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { Agent } from 'undici';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { temporalConnectionOptions } from '../src/temporal/connection';
import { findTool } from '../src/embedded/tools';
import { engine } from './engine';
import { Sampler } from './procs';
import { Receivers } from './receivers';
import { renderReport, ratios, targets, type Report } from './report';
import { fanoutOne, fanoutTen, fifoMany, fifoOne, maximum, steady, warmUp, wire, type Ctx, type Options, type ScenarioResult } from './scenarios';
import { benchLogger, startStack, type BenchStack, type StackKind } from './stack';
import { cost, renderCost } from './cost';
import { scaleout } from './scaleout';
import { renderSoak, soak } from './soak';
import { chain, renderChain } from './chain';
import { filterEval, filtered, renderFilterEval, unfiltered } from './filters';
import { freePort } from '../src/embedded/postgres';

const ALL = ['a', 'b', 'c', 'd', 'e', 'f', 'o'];
/** What a run without --scenarios measures: all but o (ordered delivery), which runs when asked for. */
const DEFAULT = ['a', 'b', 'c', 'd', 'e', 'f'];
/** Scenarios with a report of their own, run one per invocation. */
const ALONE = ['cost', 'soak', 'scaleout', 'chain', 'filter-eval'];

const positive = (name: string, max: number) => (text: string) => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new InvalidArgumentError(`${name} must be a number above 0 and at most ${max}`);
  return n;
};
const whole = (name: string, max: number) => (text: string) => {
  const n = positive(name, max)(text);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};

const program = new Command('bench')
  .description('hookflow benchmark: steady load, maximum throughput, fan-out, and the engine and wire ceilings')
  .option('--duration <s>', 'a: seconds of steady load', positive('--duration', 3_600), 60)
  .option('--rate <n>', 'a: events per second', positive('--rate', 10_000), 10)
  .option('--events <n>', 'b, d: how many events / workflows; c: N/10 events to 10 endpoints each', whole('--events', 1_000_000), 150)
  .option('--fanout <n>', 'c: endpoints of the one-event fan-out', whole('--fanout', 100_000), 1_000)
  .option('--concurrency <n>', 'b–e: requests in flight', whole('--concurrency', 1_000), 32)
  .option('--filter-events <n>', 'f: events to each group (1 → 100 endpoints unfiltered, 1 → 1,000 with 900 filtering it out)', whole('--filter-events', 1_000), 5)
  .option('--filter-eval-rounds <n>', 'filter-eval: timed rounds (the median is reported)', whole('--filter-eval-rounds', 100), 7)
  .option('--filter-eval-iterations <n>', 'filter-eval: evaluations per round', whole('--filter-eval-iterations', 10_000_000), 20_000)
  .option('--scenarios <list>', `which of ${ALL.join(',')} to run (o: ordered delivery, not run by default); or one of ${ALONE.join(', ')} alone`, (text) => {
    const list = text.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 1 && ALONE.includes(list[0]!)) return list;
    const bad = list.filter((s) => !ALL.includes(s));
    if (bad.length > 0 || list.length === 0) throw new InvalidArgumentError(`--scenarios takes a comma-separated subset of ${ALL.join(',')}, or one of ${ALONE.join(', ')} alone`);
    return list;
  }, DEFAULT)
  .option('--drain-timeout <s>', 'a: how long to wait for deliveries after the last event; a backlog left then is reported, not awaited', positive('--drain-timeout', 3_600), 15)
  .option('--max-wait <s>', 'b–e: longest wait for all deliveries after the last request', positive('--max-wait', 3_600), 300)
  .option('--wire-events <n>', 'e: how many POSTs', whole('--wire-events', 1_000_000), 5_000)
  .option('--receivers <n>', 'HTTP servers in the receiver process', whole('--receivers', 64), 4)
  .option('--engine-worker-options <json>', "d: extra Temporal WorkerOptions for the engine ceiling's worker (experiments)", (text) => JSON.parse(text) as Record<string, unknown>, {})
  .option('--engine-eager-start', 'd: experiment: start the parent workflows with eager workflow start')
  .option('--engine-local-activity', "d: experiment: run the child's no-op as a local activity")
  .option('--engine-fanout <n>', 'd: experiment: children per parent (events/n parents)', whole('--engine-fanout', 2_000), 1)
  .option('--engine-search-attributes', "d: experiment: hookflow's search attributes on both workflows")
  .option('--fifo-events <n>', 'o1: events to the one FIFO endpoint', whole('--fifo-events', 1_000_000), 500)
  .option('--fifo-endpoints <n>', 'o20, u20: FIFO endpoints side by side (o20), and as many unordered ones (u20)', whole('--fifo-endpoints', 10_000), 20)
  .option('--fifo-per-endpoint <n>', 'o20, u20: events to each of those endpoints', whole('--fifo-per-endpoint', 100_000), 50)
  .option('--cost-messages <n>', 'cost: messages to the one-endpoint tenant', whole('--cost-messages', 10_000), 20)
  .option('--cost-fanout <list>', 'cost: endpoint counts of the one-message fan-out cases', (text) => text.split(',').map((k) => whole('--cost-fanout', 10_000)(k.trim())), [10, 100])
  .option('--cost-concurrency <n>', 'cost: messages in flight (1: each waits for the previous delivery)', whole('--cost-concurrency', 1_000), 1)
  .option('--soak-minutes <n>', 'soak: minutes of steady load', positive('--soak-minutes', 24 * 60), 30)
  .option('--soak-rate <n>', 'soak: events per second', positive('--soak-rate', 10_000), 8)
  .option('--sample-seconds <n>', 'soak: seconds between memory samples', positive('--sample-seconds', 600), 10)
  .option('--out <file>', 'cost, soak, scaleout: where the JSON report goes (default bench-results/<scenario>-<time>.json)')
  .option('--engine <kind>', 'the embedded engine: dev (start-dev on SQLite) or server (Temporal server on Postgres); TEMPORAL_ENGINE', (text) => {
    if (text !== 'dev' && text !== 'server') throw new InvalidArgumentError('--engine takes dev or server');
    return text;
  })
  .option('--dynamic-config <key=value>', 'engine dynamic config, repeatable (TEMPORAL_DYNAMIC_CONFIG), e.g. history.hostLevelCacheMaxSize=2048', collect, [])
  .option('--sqlite-pragma <key=value>', 'dev engine SQLite pragma over the defaults, repeatable (TEMPORAL_SQLITE_PRAGMAS), e.g. synchronous=off', collect, [])
  .option('--history-shards <n>', 'server engine: history shards of a fresh database (TEMPORAL_HISTORY_SHARDS)', whole('--history-shards', 16_384))
  .option('--worker-max-cached-workflows <n>', "hookflow worker's sticky cache size (WORKER_MAX_CACHED_WORKFLOWS)")
  .option('--worker-max-workflow-tasks <n>', "hookflow worker's concurrent workflow tasks (WORKER_MAX_CONCURRENT_WORKFLOW_TASKS)")
  .option('--worker-max-activities <n>', "hookflow worker's concurrent activities (WORKER_MAX_CONCURRENT_ACTIVITIES)")
  .option('--database-pool-size <n>', "hookflow's Postgres connections per process (DATABASE_POOL_SIZE)")
  .option('--go-mem-limit <limit>', 'GOMEMLIMIT of the embedded engine (Go runtime soft memory limit), e.g. 150MiB')
  .option('--go-gc <percent>', 'GOGC of the embedded engine (Go garbage collector target)')
  .option('--scaleout-events <n>', 'scaleout: events per measurement', whole('--scaleout-events', 1_000_000), 300)
  .option('--stack <kind>', 'how hookflow runs: npm-start (the production build as `npm start` runs it, in a child process, measured as its own tree) or in-process (the sources, in this process)', (text) => {
    if (text !== 'npm-start' && text !== 'in-process') throw new InvalidArgumentError('--stack takes npm-start or in-process');
    return text;
  }, 'npm-start')
  .option('--json', 'print the report as JSON on stdout')
  .parse();

function collect(value: string, previous: string[]): string[] {
  if (!/^[A-Za-z0-9_.]+=.+$/.test(value)) throw new InvalidArgumentError(`takes key=value, not "${value}"`);
  return [...previous, value];
}

/** What commander hands back for the options above. */
type RawOptions = Omit<Options, 'json' | 'engineEagerStart' | 'engineLocalActivity' | 'engineSearchAttributes'> & {
  json?: boolean;
  stack: StackKind;
  engineEagerStart?: boolean;
  engineLocalActivity?: boolean;
  engineSearchAttributes?: boolean;
  costMessages: number;
  costFanout: number[];
  costConcurrency: number;
  soakMinutes: number;
  soakRate: number;
  filterEvalRounds: number;
  filterEvalIterations: number;
  sampleSeconds: number;
  out?: string;
  engine?: string;
  dynamicConfig: string[];
  sqlitePragma: string[];
  historyShards?: number;
  workerMaxCachedWorkflows?: string;
  workerMaxWorkflowTasks?: string;
  workerMaxActivities?: string;
  databasePoolSize?: string;
  goMemLimit?: string;
  goGc?: string;
  scaleoutEvents: number;
};

const raw = program.opts<RawOptions>();
const opts: Options = {
  duration: raw.duration,
  rate: raw.rate,
  events: raw.events,
  fanout: raw.fanout,
  concurrency: raw.concurrency,
  scenarios: raw.scenarios,
  json: Boolean(raw.json),
  drainTimeout: raw.drainTimeout,
  maxWait: raw.maxWait,
  wireEvents: raw.wireEvents,
  receivers: raw.receivers,
  engineWorkerOptions: raw.engineWorkerOptions,
  engineEagerStart: Boolean(raw.engineEagerStart),
  engineLocalActivity: Boolean(raw.engineLocalActivity),
  engineFanout: raw.engineFanout,
  engineSearchAttributes: Boolean(raw.engineSearchAttributes),
  filterEvents: raw.filterEvents,
  fifoEvents: raw.fifoEvents,
  fifoEndpoints: raw.fifoEndpoints,
  fifoPerEndpoint: raw.fifoPerEndpoint,
};

/** The engine and worker settings from the flags, as the environment variables src/config.ts reads. */
const settings: Record<string, string> = Object.fromEntries(
  Object.entries({
    TEMPORAL_ENGINE: raw.engine,
    TEMPORAL_DYNAMIC_CONFIG: raw.dynamicConfig.join(',') || undefined,
    TEMPORAL_SQLITE_PRAGMAS: raw.sqlitePragma.join(',') || undefined,
    TEMPORAL_HISTORY_SHARDS: raw.historyShards === undefined ? undefined : String(raw.historyShards),
    WORKER_MAX_CACHED_WORKFLOWS: raw.workerMaxCachedWorkflows,
    DATABASE_POOL_SIZE: raw.databasePoolSize,
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: raw.workerMaxWorkflowTasks,
    WORKER_MAX_CONCURRENT_ACTIVITIES: raw.workerMaxActivities,
  }).filter((entry): entry is [string, string] => entry[1] !== undefined),
);
// The embedded engine is a Go child of this process and inherits these; Node ignores them.
if (raw.goMemLimit) process.env.GOMEMLIMIT = raw.goMemLimit;
if (raw.goGc) process.env.GOGC = raw.goGc;
/** What the reports print as this run's settings: the flags' environment, the Go ones included. */
const reportedSettings = { ...settings, ...(raw.goMemLimit ? { GOMEMLIMIT: raw.goMemLimit } : {}), ...(raw.goGc ? { GOGC: raw.goGc } : {}) };
const outFile = (scenario: string) => raw.out ?? `bench-results/${scenario}-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`;

const started = Date.now();
const progress = (line: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

function temporalVersion(): string {
  const binary = findTool('temporal', loadConfig().tools);
  if (!binary) return 'Temporal CLI: not found (SDK-downloaded dev server)';
  try {
    return execFileSync(binary, ['--version']).toString().trim();
  } catch {
    return `Temporal CLI at ${binary}: version unknown`;
  }
}

const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

async function main(): Promise<void> {
  if (opts.scenarios[0] === 'filter-eval') {
    const report = filterEval({ rounds: raw.filterEvalRounds, iterations: raw.filterEvalIterations });
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderFilterEval(report)}\nload average ${load().join(' ')} on ${cpus().length} cores\n`);
    return;
  }
  if (opts.scenarios[0] === 'scaleout') {
    await scaleout({ events: raw.scaleoutEvents, concurrency: opts.concurrency, receivers: opts.receivers, out: outFile('scaleout'), settings, progress, json: opts.json, opts });
    return;
  }
  const loadAverageStart = load();
  progress(`load average ${loadAverageStart.join(' ')}; free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB`);
  const log = benchLogger();
  let stack: BenchStack | undefined;
  let receivers: Receivers | undefined;
  let connection: Connection | undefined;
  const agent = new Agent({ connections: 512, keepAliveTimeout: 10_000 });
  let stopping = false;
  const cleanup = async () => {
    await receivers?.stop().catch((err) => progress(`stopping receivers: ${String(err)}`));
    await connection?.close().catch(() => undefined);
    await agent.close().catch(() => undefined);
    await stack?.stop().catch((err) => progress(`stopping hookflow: ${String(err)}`));
  };
  const onSignal = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    progress(`${signal}: stopping everything`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  try {
    progress('starting receivers and hookflow (embedded Postgres, Temporal dev server, worker, API)');
    receivers = await Receivers.start(opts.receivers);
    // cost reads the engine's own persistence counters.
    const metrics: Record<string, string> = opts.scenarios[0] === 'cost' ? { TEMPORAL_ENGINE_METRICS_PORT: String(await freePort()) } : {};
    stack = await startStack(log, { ...metrics, ...settings }, raw.stack);
    progress(`hookflow ready: ${stack.description}; API ${stack.apiUrl}, Temporal ${stack.temporalAddress ?? 'unknown'}`);
    let temporal: Client | undefined;
    if (stack.temporalAddress) {
      // TEMPORAL_TLS_* and TEMPORAL_API_KEY, as hookflow itself reaches that Temporal.
      connection = await Connection.connect(temporalConnectionOptions(loadConfig().temporal, stack.temporalAddress));
      temporal = new Client({ connection, namespace: stack.namespace });
    }
    const receiverPid = receivers.pid;
    const ctx: Ctx = {
      stack,
      receivers,
      sampler: stack.pid ? new Sampler(stack.pid, receiverPid, stack.mode === 'in-process') : undefined,
      temporal,
      opts,
      runId: randomBytes(3).toString('hex'),
      agent,
      progress,
      tenants: new Map(),
    };

    if (opts.scenarios[0] === 'cost') {
      const report = await cost(ctx, { messages: raw.costMessages, fanouts: raw.costFanout, concurrency: raw.costConcurrency, out: outFile('cost'), metricsUrl: stack.engineMetricsUrl });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${stack.description}; settings ${JSON.stringify(reportedSettings)}\n${renderCost(report)}\nJSON: ${report.options.out}\n`);
      return;
    }
    if (opts.scenarios[0] === 'chain') {
      const report = await chain(ctx, { events: opts.events, rate: opts.rate, out: outFile('chain'), settings: reportedSettings });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${stack.description}; settings ${JSON.stringify(reportedSettings)}\n${renderChain(report)}\nJSON: ${report.options.out}\n`);
      return;
    }
    if (opts.scenarios[0] === 'soak') {
      const report = await soak(ctx, { minutes: raw.soakMinutes, rate: raw.soakRate, sampleSeconds: raw.sampleSeconds, out: outFile('soak'), settings: reportedSettings });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${stack.description}; settings ${JSON.stringify(reportedSettings)}\n${renderSoak(report)}\nJSON: ${report.options.out}\n`);
      return;
    }

    const results: ScenarioResult[] = [];
    const run = async (id: string, fn: (c: Ctx) => Promise<ScenarioResult>) => {
      if (stopping) return;
      progress(`scenario ${id}: start`);
      const r = await fn(ctx);
      results.push(r);
      progress(`scenario ${r.id}: ${r.accepted}/${r.sent} accepted, ${r.delivered}/${r.expectedDeliveries} delivered, ${r.deliveriesPerSecond ?? 'n/a'} deliveries/s, p50 ${r.latencyMs?.p50 ?? '>wait'} ms, p99 ${r.latencyMs?.p99 ?? '>wait'} ms`);
    };
    // The ceilings first, on a fresh server with hookflow's worker idle; the steady load last, because
    // a backlog it cannot drain within --drain-timeout is left behind and would slow whatever followed.
    if (opts.scenarios.includes('d')) await run('d', engine);
    if (opts.scenarios.includes('e')) await run('e', wire);
    if (opts.scenarios.some((s) => ['a', 'b', 'c', 'f', 'o'].includes(s))) {
      progress('warm-up: 10 events, not counted');
      await warmUp(ctx);
    }
    if (opts.scenarios.includes('b')) await run('b', maximum);
    if (opts.scenarios.includes('c')) {
      await run('c1', fanoutOne);
      await run('c10', fanoutTen);
    }
    if (opts.scenarios.includes('f')) {
      await run('f100', unfiltered);
      await run('f1000', filtered);
    }
    if (opts.scenarios.includes('o')) {
      await run('o1', fifoOne);
      // The unordered run first: the FIFO one then meets an engine as warm as it.
      await run('u20', fifoMany('unordered'));
      await run('o20', fifoMany('fifo'));
    }
    if (opts.scenarios.includes('a')) await run('a', steady);

    const order = ['a', 'b', 'c1', 'c10', 'f100', 'f1000', 'o1', 'u20', 'o20', 'd', 'e'];
    results.sort((x, y) => order.indexOf(x.id) - order.indexOf(y.id));
    const report: Report = {
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      startedAt: new Date(started).toISOString(),
      machine: {
        cores: cpus().length,
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        temporal: temporalVersion().replace(/\s+/g, ' '),
        loadAverageStart,
        loadAverageEnd: load(),
        stack: stack.description,
      },
      options: { ...opts },
      results,
      ratios: ratios(results),
      targets: targets(results, opts.fanout),
    };
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${renderReport(report)}\n`);
  } finally {
    if (!stopping) {
      stopping = true;
      progress('stopping receivers and hookflow');
      await cleanup();
      progress(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
