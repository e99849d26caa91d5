import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createHttpClient } from '../../activities/http';
import type { Config } from '../config';
import type { Db } from '../db/pool';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

let runtimeInstalled = false;
/** Keep the Rust core's own logs at warnings, through our logger. */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
}

export type DeliveryWorker = { run(): Promise<void>; shutdown(): Promise<void> };

/** The worker that runs hookflow's workflows and the delivery activities on TEMPORAL_TASK_QUEUE. */
export async function createDeliveryWorker(o: {
  config: Config;
  address: string;
  db: Db;
  log: Logger;
  metrics: Metrics;
  workflowBundle?: WorkflowBundleOption;
}): Promise<DeliveryWorker> {
  installRuntime();
  const connection = await NativeConnection.connect({ address: o.address });
  const http = createHttpClient({ timeoutMs: o.config.delivery.timeoutMs, allowPrivateNetwork: o.config.allowPrivateNetwork });
  const activities = createActivities({
    db: o.db,
    http,
    config: o.config,
    log: o.log,
    onAttempt: (a) => {
      o.metrics.attempts.inc({ status: a.status, failure_type: a.failureType ?? 'none' });
      o.metrics.attemptDuration.observe(a.durationMs / 1000);
    },
  });
  const worker = await Worker.create({
    connection,
    namespace: o.config.temporal.namespace,
    taskQueue: o.config.temporal.taskQueue,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { ignoreModules: [] } }),
    activities,
    shutdownGraceTime: '5s',
  });
  let running: Promise<void> | undefined;
  return {
    run: () => (running ??= worker.run()),
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running?.catch(() => undefined);
      await http.close();
      await connection.close();
    },
  };
}
