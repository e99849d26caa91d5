/**
 * Scenario d's process: the engine-ceiling worker (bench/engine-workflows.ts, bundled by its own
 * Worker.create, on a task queue of its own) and the client that starts the workflows, apart from
 * hookflow's process so neither's memory or CPU is counted as the other's. Forked by bench/engine.ts;
 * takes one `EngineJob` over IPC and answers with what happened.
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { temporalConnectionOptions } from '../src/temporal/connection';
import { messageSearchAttributes } from '../workflows/ids';
import { inPool, sleep } from './stats';

export type EngineJob = {
  address: string;
  namespace: string;
  taskQueue: string;
  runId: string;
  count: number;
  concurrency: number;
  maxWaitMs: number;
  workerOptions: Record<string, unknown>;
  eagerStart: boolean;
  localActivity: boolean;
  fanout: number;
  searchAttributes: boolean;
};
export type EngineStart = { id: string; sentAt: number; ackAt: number; ok: boolean; status: string };
export type EngineMessage =
  | { type: 'ready' }
  | { type: 'measuring' }
  | { type: 'progress'; started: number; ran: number }
  | { type: 'done'; starts: EngineStart[]; ranAt: [string, number][]; waitEnded: number }
  | { type: 'failed'; error: string };

const send = (m: EngineMessage) => process.send!(m);
const WORKFLOWS = fileURLToPath(new URL('./engine-workflows.ts', import.meta.url));

async function run(job: EngineJob): Promise<void> {
  // Warnings only, like hookflow's worker under the benchmark (the SDK's info lines are bundler chatter).
  Runtime.install({ shutdownSignals: [], logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } } });
  const ranAt = new Map<string, number>();
  // Forked with the benchmark's environment: TEMPORAL_TLS_* and TEMPORAL_API_KEY as hookflow reads them.
  const connection = await NativeConnection.connect(temporalConnectionOptions(loadConfig().temporal, job.address));
  const worker = await Worker.create({
    connection,
    namespace: job.namespace,
    taskQueue: job.taskQueue,
    workflowsPath: WORKFLOWS,
    activities: {
      noop(tag: string): Promise<void> {
        if (!ranAt.has(tag)) ranAt.set(tag, Date.now());
        return Promise.resolve();
      },
    },
    // The settings hookflow's delivery worker has: SDK defaults and a 5 s shutdown grace.
    shutdownGraceTime: '5s',
    ...job.workerOptions,
  });
  const running = worker.run();
  // Eager workflow start needs the client on the worker's NativeConnection; it is used either way.
  const client = new Client({ connection, namespace: job.namespace });
  const options = { localActivity: job.localActivity, fanout: job.fanout, searchAttributes: job.searchAttributes };
  const start = (tag: string) =>
    client.workflow.start('engineParent', {
      taskQueue: job.taskQueue,
      workflowId: tag,
      args: [tag, options],
      requestEagerStart: job.eagerStart,
      typedSearchAttributes: job.searchAttributes ? messageSearchAttributes({ tenantId: 'bench', eventType: 'bench.ping', messageId: tag }) : [],
    });
  /** Children run `<parent tag>#<n>`: a parent is done when all its children's activities ran. */
  const parentDone = (tag: string) => Array.from({ length: job.fanout }, (_, n) => `${tag}#${n}`).every((t) => ranAt.has(t));
  try {
    // Warm-up, as for hookflow (about 10 deliveries): the bundle loaded into the workflow isolate before anything counts.
    const warm = Array.from({ length: Math.max(1, Math.ceil(10 / job.fanout)) }, (_, n) => `bench.dw.${job.runId}.${n}`);
    await Promise.all(warm.map(start));
    const warmDeadline = Date.now() + 60_000;
    while (!warm.every(parentDone) && Date.now() < warmDeadline) await sleep(50);
    send({ type: 'measuring' });

    const starts: EngineStart[] = [];
    const measured = () => [...ranAt.keys()].filter((t) => t.startsWith('bench.d.')).length;
    const ticker = setInterval(() => send({ type: 'progress', started: starts.length, ran: measured() }), 2_000);
    await inPool(job.count, job.concurrency, async (n) => {
      const id = `bench.d.${job.runId}.${n}`;
      const sentAt = Date.now();
      try {
        await start(id);
        starts.push({ id, sentAt, ackAt: Date.now(), ok: true, status: 'started' });
      } catch (err) {
        starts.push({ id, sentAt, ackAt: Date.now(), ok: false, status: (err as Error).name });
      }
    });
    const expected = starts.filter((s) => s.ok).length * job.fanout;
    const deadline = Date.now() + job.maxWaitMs;
    while (measured() < expected && Date.now() < deadline) await sleep(50);
    const waitEnded = Date.now();
    clearInterval(ticker);
    // The children complete right after their activity; let them, so nothing is left running.
    const settleDeadline = Date.now() + 60_000;
    while (Date.now() < settleDeadline) {
      const { count } = await client.workflow.count(`TaskQueue = "${job.taskQueue}" AND ExecutionStatus = "Running"`);
      if (count === 0) break;
      await sleep(250);
    }
    send({ type: 'done', starts, ranAt: [...ranAt.entries()].filter(([t]) => t.startsWith('bench.d.')), waitEnded });
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  }
}

if (!process.send) throw new Error('bench/engine-worker.ts must be forked with an IPC channel');
process.once('message', (job: EngineJob) => {
  run(job).then(
    () => process.disconnect(),
    (err) => {
      send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      process.disconnect();
    },
  );
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
