import { hostname } from 'node:os';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { loadConfig } from '../config';
import { temporalConnectionOptions } from '../temporal/connection';

/**
 * `node dist/src/cli/worker-health.js`: exits 0 when Temporal lists a worker of this host among the recent
 * pollers of TEMPORAL_TASK_QUEUE, else 1. The worker serves no HTTP, so this is its container healthcheck
 * (docker-compose.yml) or exec probe; it reaches Temporal with the worker's own settings, TLS and API key
 * included. A worker's identity is `<pid>@<hostname>`; an idle long poll is re-issued about every 60 s,
 * hence the 150 s window.
 */
const RECENT_S = 150;

try {
  const config = loadConfig();
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
  const connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal, address), connectTimeout: 3_000 });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: config.temporal.taskQueue },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const me = `@${hostname()}`;
    const alive = pollers.some((p) => p.identity?.endsWith(me) && Date.now() / 1000 - Number(p.lastAccessTime?.seconds ?? 0) < RECENT_S);
    process.exitCode = alive ? 0 : 1;
    if (!alive) process.stderr.write(`no worker of ${hostname()} polled task queue ${config.temporal.taskQueue} in the last ${RECENT_S} s\n`);
  } finally {
    await connection.close();
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
