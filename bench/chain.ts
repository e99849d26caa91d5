/**
 * `--scenarios chain` (issue 11): where a delivery's latency goes. Sends `--events` one-endpoint events
 * at `--rate`, open loop, then reads each delivered message's two histories and splits the time from the
 * POST to the receipt into the steps of the chain, using the events' own timestamps (the Temporal
 * server's clock, the same machine's as the bench's). Prints the p50 / p90 / p99 of each step.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import proto, { type temporal } from '@temporalio/proto';
import { deliveryWorkflowId, messageWorkflowId } from '../workflows/ids';
import { endpointGroup, postEvent, settle, warmUp, type Ctx, type Sent } from './scenarios';
import { round1, sleep } from './stats';

const EventType = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export type ChainOptions = { events: number; rate: number; out: string; settings: Record<string, string> };

/** The steps, in order; each ends where the next begins. */
const STEPS = [
  ['api', 'POST sent → message workflow started (API: validate, store, start the workflow)'],
  ['messageDispatch', 'message workflow started → its first workflow task picked up by the worker'],
  ['messageTask', "message workflow's first task (resolve endpoints, start the child) → completed"],
  ['childStart', 'message task completed → delivery workflow started (server: start the child)'],
  ['childDispatch', 'delivery workflow started → its first workflow task picked up'],
  ['attempt', 'delivery task picked up → receipt at the receiver (load, claim, sign, POST)'],
] as const;
type Step = (typeof STEPS)[number][0];

export type ChainReport = {
  options: ChainOptions;
  delivered: number;
  sent: number;
  /** Deliveries whose histories were read and split. */
  measured: number;
  /** Per step, and for the whole POST → receipt: percentiles in ms. */
  steps: Record<Step | 'total', { p50: number; p90: number; p99: number; mean: number }>;
  /** receipt → the delivery task's completion (recording the attempt), not part of the latency. */
  afterReceipt: { p50: number; p90: number };
};

const ms = (e: HistoryEvent | undefined): number | undefined => {
  const t = e?.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : undefined;
};
const first = (events: HistoryEvent[], type: temporal.api.enums.v1.EventType) => events.find((e) => e.eventType === type);

function percentiles(xs: number[]) {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: round1(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) };
}

export async function chain(ctx: Ctx, o: ChainOptions): Promise<ChainReport> {
  const client = ctx.temporal;
  if (!client) throw new Error('chain reads histories: it needs the Temporal address');
  await warmUp(ctx);
  const tenants = await endpointGroup(ctx, 'single', 10, 1);
  ctx.progress(`[chain] ${o.events} events at ${o.rate}/s`);
  const sents: Sent[] = [];
  const start = Date.now();
  const pending: Promise<void>[] = [];
  for (let n = 0; n < o.events; n += 1) {
    const wait = start + (n * 1000) / o.rate - Date.now();
    if (wait > 0) await sleep(wait);
    pending.push(postEvent(ctx, 'k', n, tenants[n % tenants.length]!).then((s) => void sents.push(s)));
  }
  await Promise.all(pending);
  const deadline = Date.now() + 60_000;
  while (ctx.receivers.deliveredCount('k') < sents.filter((s) => s.ok).length && Date.now() < deadline) await sleep(100);
  await settle(ctx);

  const samples: Record<Step | 'total' | 'afterReceipt', number[]> = { api: [], messageDispatch: [], messageTask: [], childStart: [], childDispatch: [], attempt: [], total: [], afterReceipt: [] };
  for (const s of sents) {
    const receipt = ctx.receivers.arrivals.get(s.id)?.[0];
    if (!s.ok || receipt === undefined) continue;
    const parent = (await client.workflow.getHandle(messageWorkflowId(s.id)).fetchHistory()).events ?? [];
    const initiated = first(parent, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
    const childId = initiated?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    const prefix = deliveryWorkflowId(s.id, '');
    const endpointId = childId?.startsWith(prefix) ? childId.slice(prefix.length) : undefined;
    if (!endpointId) continue;
    const child = (await client.workflow.getHandle(deliveryWorkflowId(s.id, endpointId)).fetchHistory()).events ?? [];
    const t = {
      sent: s.sentAt,
      parentStarted: ms(first(parent, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)),
      parentTaskStarted: ms(first(parent, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)),
      parentTaskCompleted: ms(first(parent, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)),
      childStarted: ms(first(child, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)),
      childTaskStarted: ms(first(child, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)),
      receipt,
      childTaskCompleted: ms(first(child, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)),
    };
    if (Object.values(t).some((v) => v === undefined)) continue;
    const v = t as Record<keyof typeof t, number>;
    samples.api.push(v.parentStarted - v.sent);
    samples.messageDispatch.push(v.parentTaskStarted - v.parentStarted);
    samples.messageTask.push(v.parentTaskCompleted - v.parentTaskStarted);
    samples.childStart.push(v.childStarted - v.parentTaskCompleted);
    samples.childDispatch.push(v.childTaskStarted - v.childStarted);
    samples.attempt.push(v.receipt - v.childTaskStarted);
    samples.total.push(v.receipt - v.sent);
    samples.afterReceipt.push(v.childTaskCompleted - v.receipt);
  }
  const after = percentiles(samples.afterReceipt);
  const report: ChainReport = {
    options: o,
    sent: sents.length,
    delivered: ctx.receivers.deliveredCount('k'),
    measured: samples.total.length,
    steps: Object.fromEntries((['total', ...STEPS.map(([id]) => id)] as const).map((id) => [id, percentiles(samples[id])])) as ChainReport['steps'],
    afterReceipt: { p50: after.p50, p90: after.p90 },
  };
  mkdirSync(dirname(resolve(o.out)), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

export function renderChain(r: ChainReport): string {
  const lines = [
    `Chain: ${r.options.events} one-endpoint events at ${r.options.rate}/s; ${r.delivered}/${r.sent} delivered, ${r.measured} split by their histories' timestamps (ms)`,
    '| step | p50 | p90 | p99 | mean |',
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const [id, title] of STEPS) {
    const s = r.steps[id];
    lines.push(`| ${title} | ${s.p50} | ${s.p90} | ${s.p99} | ${s.mean} |`);
  }
  const s = r.steps.total;
  lines.push(`| **POST sent → receipt** | ${s.p50} | ${s.p90} | ${s.p99} | ${s.mean} |`);
  lines.push(`after the receipt, until the delivery task completed (the attempt recorded): p50 ${r.afterReceipt.p50} ms, p90 ${r.afterReceipt.p90} ms`);
  return lines.join('\n');
}
