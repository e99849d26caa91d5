/**
 * d. The engine ceiling: bench/engine-workflows.ts on the same Temporal server, with a worker and a
 * task queue of their own, in a child process (bench/engine-worker.ts). "Delivered" is the no-op
 * activity running; latency is workflow start requested → activity ran. --engine-worker-options,
 * --engine-eager-start and --engine-local-activity are for experiments on this worker only.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineJob, EngineMessage } from './engine-worker';
import { summarize, type Ctx, type ScenarioResult } from './scenarios';
import type { Usage } from './procs';

function experiments(ctx: Ctx): string[] {
  const notes: string[] = [];
  if (Object.keys(ctx.opts.engineWorkerOptions).length > 0) notes.push(`engine worker options: ${JSON.stringify(ctx.opts.engineWorkerOptions)}`);
  if (ctx.opts.engineEagerStart) notes.push('engine experiment: eager workflow start');
  if (ctx.opts.engineLocalActivity) notes.push("engine experiment: the child's activity is a local activity");
  if (ctx.opts.engineFanout > 1) notes.push(`engine experiment: ${ctx.opts.engineFanout} children per parent`);
  if (ctx.opts.engineSearchAttributes) notes.push("engine experiment: hookflow's search attributes on both workflows");
  return notes;
}

export async function engine(ctx: Ctx): Promise<ScenarioResult> {
  const address = ctx.stack.temporalAddress;
  if (!address) throw new Error('scenario d needs the Temporal address (set TEMPORAL_ADDRESS with BENCH_TARGET_URL)');
  const job: EngineJob = {
    address,
    namespace: ctx.stack.namespace,
    taskQueue: `hookflow-bench-engine-${ctx.runId}`,
    runId: ctx.runId,
    // With a fan-out, as many parents as make --events deliveries.
    count: Math.max(1, Math.round(ctx.opts.events / ctx.opts.engineFanout)),
    concurrency: ctx.opts.concurrency,
    maxWaitMs: ctx.opts.maxWait * 1000,
    workerOptions: ctx.opts.engineWorkerOptions,
    eagerStart: ctx.opts.engineEagerStart,
    localActivity: ctx.opts.engineLocalActivity,
    fanout: ctx.opts.engineFanout,
    searchAttributes: ctx.opts.engineSearchAttributes,
  };
  ctx.progress('[d] starting the engine worker process (bundles bench/engine-workflows.ts)');
  const child = fork(fileURLToPath(new URL('./engine-worker.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  ctx.sampler?.label(child.pid!, 'engine');
  let window: { close(): Usage } | undefined;
  let usage: Usage | undefined;
  try {
    const done = await new Promise<Extract<EngineMessage, { type: 'done' }>>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the engine worker process exited with code ${code}`)));
      child.on('message', (m: EngineMessage) => {
        if (m.type === 'ready') child.send(job);
        else if (m.type === 'measuring') window = ctx.sampler?.open();
        else if (m.type === 'progress') ctx.progress(`[d] started ${m.started}/${job.count}, activities run ${m.ran}`);
        else if (m.type === 'done') {
          usage = window?.close();
          resolve(m);
        } else reject(new Error(`engine worker: ${m.error}`));
      });
    });
    // Child tags are `<parent tag>#<n>`: group the activities' times by the parent that was started.
    const byParent = new Map<string, number[]>();
    for (const [tag, at] of done.ranAt) {
      const parent = tag.slice(0, tag.lastIndexOf('#'));
      byParent.set(parent, [...(byParent.get(parent) ?? []), at]);
    }
    const shape = job.fanout > 1 ? `${job.count} parents × ${job.fanout} children → no-op activity` : `${job.count} parent→child→no-op activity`;
    return summarize({
      id: 'd',
      title: `engine ceiling: ${shape}, ${job.concurrency} starts in flight`,
      sents: done.starts,
      expectedDeliveries: done.starts.filter((s) => s.ok).length * job.fanout,
      delivered: done.ranAt.length,
      duplicates: 0,
      lastArrival: done.ranAt.reduce((m, [, at]) => Math.max(m, at), 0) || undefined,
      arrivals: (tag) => byParent.get(tag),
      perRequest: job.fanout,
      waitEnded: done.waitEnded,
      usage,
      notes: experiments(ctx),
    });
  } finally {
    if (window && !usage) window.close();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}
