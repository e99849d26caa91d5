/**
 * `--scenarios cost` (issue 11, step 1): what one delivery costs the engine. Sends messages through the
 * API to a tenant with one endpoint, and single messages to tenants with K endpoints; waits for every
 * receipt and for the workflows to finish; then reads the history of every workflow run the messages
 * led to (the message workflow's runs, every child it started, their children and continue-as-new
 * successors, and anything else carrying the message's MessageId) and counts by event type
 * (bench/history-cost.ts). The dev server's own persistence counters over the same window, less its
 * idle rate, give the persistence requests. Counts do not depend on machine load, except that task
 * queues write a task to the database only when no poller is waiting (hence one message at a time by
 * default, `--cost-concurrency`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { messageWorkflowId } from '../workflows/ids';
import { COST_FIELDS, addCost, linkedRuns, runCost, workflowType, zeroCost, type RunCost } from './history-cost';
import { isRead, persistenceDelta, scrapePersistence, sum, sumWhere, type OpCounts, type PersistenceSnapshot } from './engine-metrics';
import { endpointGroup, postEvent, settle, type Ctx } from './scenarios';
import { inPool, sleep } from './stats';

export type CostOptions = {
  /** Messages to the one-endpoint tenant. */
  messages: number;
  /** Endpoint counts of the fan-out cases, one message each. */
  fanouts: number[];
  concurrency: number;
  /** Where the JSON report goes. */
  out: string;
  /** The engine's Prometheus endpoint; without it persistence is not counted. */
  metricsUrl?: string;
};

type Persistence = { persistence: OpCounts; shared: OpCounts; visibility: OpCounts; total: number; writes: number; reads: number; sharedTotal: number; visibilityTotal: number };

export type CostCase = {
  name: string;
  messages: number;
  endpointsPerMessage: number;
  deliveries: number;
  delivered: number;
  runs: number;
  totals: RunCost;
  perDelivery: Record<keyof RunCost | 'runs', number>;
  byWorkflowType: Record<string, RunCost & { runs: number }>;
  persistence?: Persistence & { perDelivery: { total: number; writes: number; reads: number; shared: number; visibility: number } };
};

export type CostReport = { startedAt: string; options: CostOptions; idle?: { seconds: number; requestsPerSecond: number }; cases: CostCase[]; notes: string[] };

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Every run a message led to: the tree from its message workflow, and whatever else carries its MessageId. */
async function runsOf(temporal: Client, messageId: string): Promise<{ workflowId: string; runId: string }[]> {
  const roots: { workflowId: string; runId: string }[] = [];
  const escaped = messageId.replace(/"/g, '\\"');
  for await (const w of temporal.workflow.list({ query: `WorkflowId = "${messageWorkflowId(messageId).replace(/"/g, '\\"')}" OR MessageId = "${escaped}"` })) {
    roots.push({ workflowId: w.workflowId, runId: w.runId });
  }
  return roots;
}

async function historiesOf(temporal: Client, messageId: string) {
  const seen = new Set<string>();
  const queue = await runsOf(temporal, messageId);
  const out: { workflowId: string; type: string; cost: RunCost }[] = [];
  while (queue.length > 0) {
    const run = queue.shift()!;
    if (seen.has(run.runId)) continue;
    seen.add(run.runId);
    const history = await temporal.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const events = history.events ?? [];
    out.push({ workflowId: run.workflowId, type: workflowType(events), cost: runCost(events) });
    queue.push(...linkedRuns(run.workflowId, events));
  }
  return out;
}

function summarizePersistence(d: { persistence: OpCounts; shared: OpCounts; visibility: OpCounts }): Persistence {
  return {
    ...d,
    total: sum(d.persistence),
    sharedTotal: sum(d.shared),
    writes: sumWhere(d.persistence, (op) => !isRead(op)),
    reads: sumWhere(d.persistence, isRead),
    visibilityTotal: sum(d.visibility),
  };
}

/**
 * After the workflows finish the server still closes visibility records and deletes finished tasks:
 * scrape until a second passes with no more writes than the idle rate (at most 15 s).
 */
async function quietSnapshot(url: string, namespace: string, idleWritesPerSecond: number): Promise<PersistenceSnapshot> {
  let last = await scrapePersistence(url, namespace);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    await sleep(1_000);
    const now = await scrapePersistence(url, namespace);
    const writes = sumWhere(now.persistence, (op) => !isRead(op)) - sumWhere(last.persistence, (op) => !isRead(op));
    last = now;
    if (writes <= idleWritesPerSecond + 1) break;
  }
  return last;
}

export async function cost(ctx: Ctx, o: CostOptions): Promise<CostReport> {
  const temporal = ctx.temporal;
  if (!temporal) throw new Error('the cost scenario needs the Temporal address (set TEMPORAL_ADDRESS with BENCH_TARGET_URL)');
  const notes: string[] = [];
  const ns = ctx.stack.namespace;
  const startedAt = new Date().toISOString();
  const cases: { name: string; tag: string; group: string; endpoints: number; messages: number; fields?: Record<string, unknown> }[] = [
    { name: `${o.messages} messages to 1 endpoint`, tag: 'k1', group: 'cost-1', endpoints: 1, messages: o.messages },
    // Ordered delivery: the message workflow starts no child; the queue starts each run (issue 18).
    { name: `${o.messages} messages to 1 FIFO endpoint`, tag: 'kf', group: 'cost-fifo', endpoints: 1, messages: o.messages, fields: { ordering: 'fifo' } },
    ...o.fanouts.map((k) => ({ name: `1 message to ${k} endpoints`, tag: `k${k}`, group: `cost-${k}`, endpoints: k, messages: 1 })),
  ];
  for (const c of cases) await endpointGroup(ctx, c.group, 1, c.endpoints, undefined, c.fields);

  // Warm-up, not counted: task queues created, workflow code loaded, connections open.
  const [warmTenant] = await endpointGroup(ctx, 'cost-1', 1, 1);
  for (let n = 0; n < 3; n += 1) await postEvent(ctx, 'kw', n, warmTenant!);
  await waitFor(ctx, 'kw', 3);
  await settle(ctx);

  let idle: { from: PersistenceSnapshot; to: PersistenceSnapshot } | undefined;
  let idleWritesPerSecond = 0;
  if (o.metricsUrl) {
    ctx.progress('[cost] measuring the engine idle for 10 s (its own background persistence, subtracted below)');
    const from = await scrapePersistence(o.metricsUrl, ns);
    await sleep(10_000);
    const to = await scrapePersistence(o.metricsUrl, ns);
    idle = { from, to };
    idleWritesPerSecond = (sumWhere(to.persistence, (op) => !isRead(op)) - sumWhere(from.persistence, (op) => !isRead(op))) / 10;
  } else {
    notes.push('persistence not counted: no engine metrics endpoint (the embedded engine serves one; with TEMPORAL_ADDRESS set BENCH_ENGINE_METRICS_URL)');
  }

  const results: CostCase[] = [];
  for (const c of cases) {
    ctx.progress(`[cost] ${c.name}`);
    const [tenant] = await endpointGroup(ctx, c.group, 1, c.endpoints, undefined, c.fields);
    const before = o.metricsUrl ? await scrapePersistence(o.metricsUrl, ns) : undefined;
    const ids: string[] = [];
    await inPool(c.messages, o.concurrency, async (n) => {
      const sent = await postEvent(ctx, c.tag, n, tenant!);
      if (!sent.ok) throw new Error(`POST /events answered ${sent.status}`);
      ids.push(sent.id);
      // One at a time (the default) means: the next message once this one is delivered everywhere.
      if (o.concurrency === 1) await waitFor(ctx, c.tag, (n + 1) * c.endpoints);
    });
    const deliveries = c.messages * c.endpoints;
    await waitFor(ctx, c.tag, deliveries);
    await settle(ctx);
    const after = o.metricsUrl ? await quietSnapshot(o.metricsUrl, ns, idleWritesPerSecond) : undefined;

    const totals = zeroCost();
    const byWorkflowType: CostCase['byWorkflowType'] = {};
    let runs = 0;
    for (const id of ids) {
      for (const r of await historiesOf(temporal, id)) {
        runs += 1;
        addCost(totals, r.cost);
        const t = (byWorkflowType[r.type] ??= { ...zeroCost(), runs: 0 });
        t.runs += 1;
        addCost(t, r.cost);
      }
    }
    const delivered = ctx.receivers.deliveredCount(c.tag);
    const perDelivery = Object.fromEntries([...COST_FIELDS, 'runs'].map((f) => [f, round2((f === 'runs' ? runs : totals[f as keyof RunCost]) / deliveries)])) as CostCase['perDelivery'];
    const result: CostCase = { name: c.name, messages: c.messages, endpointsPerMessage: c.endpoints, deliveries, delivered, runs, totals, perDelivery, byWorkflowType };
    if (before && after) {
      const p = summarizePersistence(persistenceDelta(before, after, idle));
      result.persistence = {
        ...p,
        perDelivery: { total: round2(p.total / deliveries), writes: round2(p.writes / deliveries), reads: round2(p.reads / deliveries), shared: round2(p.sharedTotal / deliveries), visibility: round2(p.visibilityTotal / deliveries) },
      };
    }
    if (delivered < deliveries) notes.push(`${c.name}: only ${delivered} of ${deliveries} deliveries arrived`);
    results.push(result);
  }

  const report: CostReport = {
    startedAt,
    options: o,
    idle: idle ? { seconds: (idle.to.at - idle.from.at) / 1000, requestsPerSecond: round2((sum(idle.to.persistence) - sum(idle.from.persistence)) / ((idle.to.at - idle.from.at) / 1000)) } : undefined,
    cases: results,
    notes: [
      ...notes,
      'billable actions: Temporal Cloud pricing (docs.temporal.io/cloud/actions), counted from the histories: a start per run, each activity attempt, one per workflow task with local activities, timers, signals, search-attribute upserts, updates',
      'visibility requests include the benchmark\'s own CountWorkflowExecutions polls while it waits for the workflows to finish',
    ],
  };
  mkdirSync(dirname(resolve(o.out)), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

async function waitFor(ctx: Ctx, tag: string, count: number): Promise<void> {
  const deadline = Date.now() + ctx.opts.maxWait * 1000;
  while (ctx.receivers.deliveredCount(tag) < count) {
    if (Date.now() > deadline) throw new Error(`[cost] ${tag}: ${ctx.receivers.deliveredCount(tag)} of ${count} deliveries after ${ctx.opts.maxWait} s`);
    await sleep(20);
  }
}

const ROWS: [string, keyof RunCost | 'runs'][] = [
  ['workflow runs', 'runs'],
  ['history events', 'events'],
  ['workflow tasks (scheduled)', 'workflowTasks'],
  ['  of which failed or timed out', 'workflowTasksFailed'],
  ['activity tasks', 'activityTasks'],
  ['activity attempts', 'activityAttempts'],
  ['local activities (markers)', 'localActivities'],
  ['workflow tasks with local activities', 'localActivityBatches'],
  ['timers', 'timers'],
  ['child workflow starts', 'childStarts'],
  ['signals', 'signals'],
  ['search-attribute upserts', 'searchAttributeUpserts'],
  ['continue-as-new', 'continuedAsNew'],
  ['Temporal Cloud billable actions', 'billableActions'],
];

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(header), `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

export function renderCost(r: CostReport): string {
  const header = ['per delivery', ...r.cases.map((c) => c.name)];
  const rows: (string | number)[][] = ROWS.map(([label, field]) => [label, ...r.cases.map((c) => c.perDelivery[field])]);
  if (r.cases.some((c) => c.persistence)) {
    rows.push(["persistence requests, hookflow's namespace", ...r.cases.map((c) => c.persistence?.perDelivery.total ?? 'n/a')]);
    rows.push(['  writes (transactions)', ...r.cases.map((c) => c.persistence?.perDelivery.writes ?? 'n/a')]);
    rows.push(['  reads', ...r.cases.map((c) => c.persistence?.perDelivery.reads ?? 'n/a')]);
    rows.push(['shard task-queue requests', ...r.cases.map((c) => c.persistence?.perDelivery.shared ?? 'n/a')]);
    rows.push(['visibility requests', ...r.cases.map((c) => c.persistence?.perDelivery.visibility ?? 'n/a')]);
  }
  const out = [`Cost of a delivery (per delivered endpoint; counts from the workflow histories, persistence from the engine's metrics for hookflow's namespace, less its idle rate${r.idle ? ` of ${r.idle.requestsPerSecond}/s` : ''})`, table(header, rows), ''];
  for (const c of r.cases) {
    out.push(`${c.name}: ${c.delivered}/${c.deliveries} delivered; totals by workflow type`);
    out.push(
      table(
        ['workflow type', 'runs', 'events', 'WFTs', 'activities', 'LA markers', 'LA batches', 'timers', 'children', 'billable'],
        Object.entries(c.byWorkflowType).map(([type, t]) => [type, t.runs, t.events, t.workflowTasks, t.activityAttempts, t.localActivities, t.localActivityBatches, t.timers, t.childStarts, t.billableActions]),
      ),
    );
    if (c.persistence) {
      for (const [label, counts] of [['namespace', c.persistence.persistence], ['shard queues', c.persistence.shared], ['visibility', c.persistence.visibility]] as const) {
        const ops = Object.entries(counts).sort((a, b) => b[1] - a[1]);
        out.push(`${label} persistence by operation (case total): ${ops.map(([op, n]) => `${op} ${n}`).join(', ') || 'none'}`);
      }
    }
    out.push('');
  }
  out.push(...r.notes.map((n) => `note: ${n}`));
  return out.join('\n');
}
