import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type LogLevel, type LogMetadata, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createHttpClient } from '../webhooks/http';
import { createRelayTransport } from '../relay/transport';
import type { Config } from '../config';
import { WORKFLOWS_PATH } from '../lib/paths';
import type { Db } from '../db/pool';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { Tracing } from '../observability/tracing';
import { temporalConnectionOptions } from './connection';
import { deliveryStarter } from './delivery-starter';
import { prebuiltWorkflowBundle } from './workflow-bundle';

const SDK_LEVELS: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR' };

let runtimeInstalled = false;
/**
 * The SDK's and the Rust core's logs go through our logger as JSON lines, at LOG_LEVEL but never
 * below warnings (the SDK's info lines are bundler chatter). With TEMPORAL_METRICS_ADDRESS, the core
 * also serves its own Prometheus metrics (task slots, poll and schedule-to-start latencies, sticky
 * cache) there. Installed once per process: the first worker's settings hold for the process.
 */
function installRuntime(log: Logger, metricsAddress: string | undefined): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = log.levelVal < 40 ? 'WARN' : (SDK_LEVELS[log.level] ?? 'WARN');
  const sdkLog = log.child({ component: 'temporal-sdk' });
  const rank: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
  const write = (l: LogLevel, message: string, meta?: LogMetadata) => {
    if (rank[l] < rank[level]) return;
    const method = l === 'TRACE' ? 'trace' : l === 'DEBUG' ? 'debug' : l === 'INFO' ? 'info' : l === 'WARN' ? 'warn' : 'error';
    sdkLog[method](meta ?? {}, message);
  };
  Runtime.install({
    // hookflow's CLI handles SIGINT/SIGTERM and stops the worker in its own order.
    shutdownSignals: [],
    logger: {
      log: write,
      trace: (m, meta) => write('TRACE', m, meta),
      debug: (m, meta) => write('DEBUG', m, meta),
      info: (m, meta) => write('INFO', m, meta),
      warn: (m, meta) => write('WARN', m, meta),
      error: (m, meta) => write('ERROR', m, meta),
    },
    telemetryOptions: {
      logging: { filter: { core: level, other: level }, forward: {} },
      ...(metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : {}),
    },
  });
}

/**
 * WORKER_* settings; unset ones keep the SDK's defaults: 40 concurrent workflow tasks, 100 activities,
 * 100 local activities, and a sticky cache of running workflows sized from the V8 heap limit (about
 * 2,300 workflows with Node's default limit on a machine with 16 GiB or more). The cache holds only
 * workflows still running — on a healthy day a delivery leaves it within a second — so it fills only
 * with deliveries that retry; WORKER_MAX_CACHED_WORKFLOWS bounds the memory they hold.
 */
function tuning(config: Config) {
  const w = config.worker;
  return {
    ...(w.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: w.maxCachedWorkflows } : {}),
    // 500 each by default, not the SDK's 40 and 100: slow receivers hold these slots (src/config.ts).
    maxConcurrentWorkflowTaskExecutions: w.maxConcurrentWorkflowTasks,
    ...(w.maxConcurrentActivities !== undefined ? { maxConcurrentActivityTaskExecutions: w.maxConcurrentActivities } : {}),
    maxConcurrentLocalActivityExecutions: w.maxConcurrentLocalActivities,
  };
}

export type DeliveryWorker = { run(): Promise<void>; shutdown(): Promise<void> };

/** The worker that runs hookflow's workflows and the delivery activities on TEMPORAL_TASK_QUEUE. */
export async function createDeliveryWorker(o: {
  config: Config;
  address: string;
  db: Db;
  log: Logger;
  metrics: Metrics;
  /** Default: dist/'s prebuilt bundle when running compiled, else the workflows bundled now from workflows/. */
  workflowBundle?: WorkflowBundleOption;
  /** Tracing on (src/observability/tracing.ts): a pre-built `workflowBundle` must then include `tracing.workflowInterceptorModules`. */
  tracing?: Tracing;
}): Promise<DeliveryWorker> {
  installRuntime(o.log, o.config.temporal.metricsAddress);
  const connection = await NativeConnection.connect(temporalConnectionOptions(o.config.temporal, o.address));
  // A FIFO delivery's run is started by the step that gives it its queue's turn, inside an activity.
  const clientConnection = await Connection.connect(temporalConnectionOptions(o.config.temporal, o.address));
  const client = new Client({ connection: clientConnection, namespace: o.config.temporal.namespace });
  const http = createHttpClient({ timeoutMs: o.config.delivery.timeoutMs, allowPrivateNetwork: o.config.allowPrivateNetwork });
  const relay = createRelayTransport({ db: o.db, log: o.log, timeoutMs: o.config.delivery.timeoutMs });
  const activities = createActivities({
    db: o.db,
    http,
    relay,
    config: o.config,
    log: o.log,
    onAttempt: (a) => {
      o.metrics.attempts.inc({ status: a.status, failure_type: a.failureType ?? 'none' });
      o.metrics.attemptDuration.observe(a.durationMs / 1000);
      // Clocks of the API's database and this worker may differ by a little; a latency is never negative.
      if (a.latencyMs !== undefined) o.metrics.deliveryLatency.observe(Math.max(0, a.latencyMs) / 1000);
    },
    onEndpointDisabled: (_endpointId, reason) => o.metrics.endpointsDisabled.inc({ reason }),
    tracer: o.tracing?.tracer,
    startDelivery: deliveryStarter(client, o.config.temporal.taskQueue),
  });
  const workflowBundle = o.workflowBundle ?? prebuiltWorkflowBundle(o.tracing?.enabled ?? false);
  const worker = await Worker.create({
    connection,
    namespace: o.config.temporal.namespace,
    taskQueue: o.config.temporal.taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { ignoreModules: [] } }),
    activities,
    ...o.tracing?.workerOptions(workflowBundle ? 'prebuilt' : 'workflowsPath'),
    ...tuning(o.config),
    shutdownGraceTime: '5s',
    // A stop must end: a local activity waiting for a Postgres that has died would hold it forever.
    // What was in flight stays with Temporal and runs again on the next worker.
    shutdownForceTime: '15s',
  });
  let running: Promise<void> | undefined;
  return {
    run: () => (running ??= worker.run()),
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running?.catch(() => undefined);
      await http.close();
      await relay.close();
      await clientConnection.close();
      await connection.close();
    },
  };
}
