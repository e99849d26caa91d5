/**
 * The scenarios, each measured the same way: the time a request leaves this process, the time its
 * answer came back, and the time each receiver saw it (reported by the receiver process). Event ids
 * are chosen here (`bench.<scenario>.<run>.<n>`), so a receipt finds its POST without asking hookflow.
 */
import { Agent, fetch } from 'undici';
import { Hookflow, HookflowError } from '@hookflow/client';
import type { Client } from '@temporalio/client';
import { createHttpClient } from '../src/webhooks/http';
import { generateSecret, webhookRequest } from '../src/webhooks/signing';
import type { Sampler, Usage } from './procs';
import type { Receivers } from './receivers';
import type { BenchStack } from './stack';
import { inPool, latency, round1, sleep, type Latency } from './stats';

export type Options = {
  duration: number;
  rate: number;
  events: number;
  fanout: number;
  concurrency: number;
  scenarios: string[];
  json: boolean;
  drainTimeout: number;
  maxWait: number;
  wireEvents: number;
  receivers: number;
  engineWorkerOptions: Record<string, unknown>;
  engineEagerStart: boolean;
  engineLocalActivity: boolean;
  engineFanout: number;
  engineSearchAttributes: boolean;
  fifoEvents: number;
  fifoEndpoints: number;
  fifoPerEndpoint: number;
  /** f: events sent to each filter fan-out group (one at a time at --concurrency 1). */
  filterEvents: number;
};

export type Ctx = {
  stack: BenchStack;
  receivers: Receivers;
  sampler?: Sampler;
  temporal?: Client;
  opts: Options;
  runId: string;
  agent: Agent;
  progress(line: string): void;
  /** Endpoint groups created so far: tenant id per group name. */
  tenants: Map<string, string[]>;
};

export type ScenarioResult = {
  id: string;
  title: string;
  /** Requests sent: events (a–c), workflow starts (d), POSTs to receivers (e). */
  sent: number;
  accepted: number;
  refused: number;
  refusals: Record<string, number>;
  expectedDeliveries: number;
  delivered: number;
  duplicates: number;
  /** Accepted requests ÷ seconds from the first request to the last acceptance. */
  ingestPerSecond: number | null;
  /** Distinct deliveries ÷ seconds from the first request to the last receipt. */
  deliveriesPerSecond: number | null;
  /** Request sent → first receipt at the receiver, per delivery. */
  latencyMs?: Latency;
  /** Request sent → its answer (202 for events). */
  ackLatencyMs?: Latency;
  /** First request → last receipt. */
  seconds: number | null;
  /** Open-loop scenario only: how late the generator sent its latest request. */
  sendLagMaxMs?: number;
  usage?: Usage;
  notes: string[];
};

export type Sent = { id: string; sentAt: number; ackAt: number; ok: boolean; status: string };

export const eventId = (ctx: Ctx, tag: string, n: number) => `bench.${tag}.${ctx.runId}.${n}`;

const clients = new WeakMap<Ctx, Hookflow>();

/**
 * The API through @hookflow/client, on the run's keep-alive undici Agent. No retries: a 429 or 503 is a
 * refusal the figures count, not something to hide.
 */
function hookflow(ctx: Ctx): Hookflow {
  let client = clients.get(ctx);
  if (!client) {
    client = new Hookflow(ctx.stack.apiUrl, ctx.stack.apiKey, {
      retries: 0,
      // undici's fetch takes its own Request class only: the request is handed over as its parts.
      fetch: async (req) =>
        (await fetch(req.url, { method: req.method, headers: [...req.headers], body: req.body ? await req.text() : undefined, dispatcher: ctx.agent })),
    });
    clients.set(ctx, client);
  }
  return client;
}

/**
 * `count` endpoints for one tenant, at receivers.url(group, n), each with `filterOf(n)` if given and `fields` in
 * each POST /endpoints; created once per group.
 */
export async function endpointGroup(
  ctx: Ctx, group: string, tenants: number, perTenant: number, filterOf?: (n: number) => Record<string, unknown>, fields: Record<string, unknown> = {},
): Promise<string[]> {
  const existing = ctx.tenants.get(group);
  if (existing) return existing;
  const ids = Array.from({ length: tenants }, (_, t) => `bench-${ctx.runId}-${group}-${t}`);
  await inPool(tenants * perTenant, Math.min(ctx.opts.concurrency, 32), async (n) => {
    await hookflow(ctx).endpoints.create({
      tenantId: ids[n % tenants]!,
      url: ctx.receivers.url(group, n),
      description: `bench ${group} ${n}`,
      ...(filterOf ? { filter: filterOf(n) } : {}),
      ...fields,
    });
  });
  ctx.tenants.set(group, ids);
  return ids;
}

export async function postEvent(ctx: Ctx, tag: string, n: number, tenantId: string): Promise<Sent> {
  const id = eventId(ctx, tag, n);
  const sentAt = Date.now();
  try {
    await hookflow(ctx).events.send({ id, tenantId, type: 'bench.ping', payload: { n, sentAt } });
    return { id, sentAt, ackAt: Date.now(), ok: true, status: '202' };
  } catch (err) {
    if (err instanceof HookflowError) return { id, sentAt, ackAt: Date.now(), ok: false, status: String(err.status) };
    const cause = (err as { cause?: { code?: string; cause?: { code?: string } } }).cause;
    return { id, sentAt, ackAt: Date.now(), ok: false, status: cause?.code ?? cause?.cause?.code ?? 'error' };
  }
}

/** Prints a progress line every 2 s until stopped. */
function ticker(ctx: Ctx, line: () => string): () => void {
  const timer = setInterval(() => ctx.progress(line()), 2_000);
  return () => clearInterval(timer);
}

/** Waits, at most `seconds`, until `done()`. */
async function drain(seconds: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Waits until no workflow of hookflow's task queue runs (each delivery records its attempt and
 * completes after the receipt), so one scenario's tail does not run into the next one's figures.
 */
export async function settle(ctx: Ctx, taskQueue = ctx.stack.taskQueue): Promise<void> {
  if (!ctx.temporal) return;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { count } = await ctx.temporal.workflow.count(`TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`);
    if (count === 0) return;
    await sleep(250);
  }
  ctx.progress(`workflows of ${taskQueue} still running after 60 s; going on`);
}

export function summarize(o: {
  id: string;
  title: string;
  sents: Sent[];
  expectedDeliveries: number;
  delivered: number;
  duplicates: number;
  lastArrival: number | undefined;
  arrivals: (id: string) => number[] | undefined;
  /** Deliveries each accepted request should cause. */
  perRequest: number;
  /** When the benchmark stopped waiting for deliveries. */
  waitEnded: number;
  usage?: Usage;
  notes?: string[];
}): ScenarioResult {
  const refusals: Record<string, number> = {};
  let first = Infinity;
  let lastAck = 0;
  const lat: number[] = [];
  const ack: number[] = [];
  let missing = 0;
  let lastSent = 0;
  for (const s of o.sents) {
    first = Math.min(first, s.sentAt);
    if (!s.ok) {
      refusals[s.status] = (refusals[s.status] ?? 0) + 1;
      continue;
    }
    lastAck = Math.max(lastAck, s.ackAt);
    lastSent = Math.max(lastSent, s.sentAt);
    ack.push(s.ackAt - s.sentAt);
    const arrived = o.arrivals(s.id) ?? [];
    for (const at of arrived) lat.push(at - s.sentAt);
    missing += Math.max(0, o.perRequest - arrived.length);
  }
  const accepted = o.sents.length - Object.values(refusals).reduce((a, b) => a + b, 0);
  const seconds = o.lastArrival ? (o.lastArrival - first) / 1000 : null;
  const notes = [...(o.notes ?? [])];
  if (o.delivered < o.expectedDeliveries) notes.push(`${o.expectedDeliveries - o.delivered} deliveries had not arrived when the wait ended, ${round1((o.waitEnded - lastSent) / 1000)} s after the last request`);
  return {
    id: o.id,
    title: o.title,
    sent: o.sents.length,
    accepted,
    refused: o.sents.length - accepted,
    refusals,
    expectedDeliveries: o.expectedDeliveries,
    delivered: o.delivered,
    duplicates: o.duplicates,
    ingestPerSecond: accepted > 0 && lastAck > first ? round1(accepted / ((lastAck - first) / 1000)) : null,
    deliveriesPerSecond: seconds ? round1(o.delivered / seconds) : null,
    latencyMs: latency(lat, missing, o.waitEnded - lastSent),
    ackLatencyMs: latency(ack),
    seconds: seconds === null ? null : round1(seconds),
    usage: o.usage,
    notes,
  };
}

/** A scenario's figures from the receipts: its webhook ids carry the scenario id, so receipts are counted by it. */
function receiptsResult(ctx: Ctx, id: string, title: string, sents: Sent[], perEvent: number, waitEnded: number, usage: Usage | undefined) {
  return summarize({
    id,
    title,
    sents,
    expectedDeliveries: sents.filter((s) => s.ok).length * perEvent,
    delivered: ctx.receivers.deliveredCount(id),
    duplicates: ctx.receivers.duplicateCount(id),
    lastArrival: ctx.receivers.lastArrival(id),
    arrivals: (eid) => ctx.receivers.arrivals.get(eid),
    perRequest: perEvent,
    waitEnded,
    usage,
  });
}

const SINGLE_TENANTS = 10;

/** Before the first measurement: the workflow bundle loaded, connections open, caches warm. */
export async function warmUp(ctx: Ctx): Promise<void> {
  const tenants = await endpointGroup(ctx, 'single', SINGLE_TENANTS, 1);
  const count = 10;
  await inPool(count, count, async (n) => {
    await postEvent(ctx, 'w', n, tenants[n % tenants.length]!);
  });
  await drain(ctx.opts.maxWait, () => ctx.receivers.deliveredCount('w') >= count);
  await settle(ctx);
}

/** a. Steady load, open loop: event n leaves at start + n/rate whatever the answers do. */
export async function steady(ctx: Ctx): Promise<ScenarioResult> {
  const { rate, duration } = ctx.opts;
  const tenants = await endpointGroup(ctx, 'single', SINGLE_TENANTS, 1);
  const total = Math.round(rate * duration);
  const window = ctx.sampler?.open();
  const sents: Sent[] = [];
  let inFlight = 0;
  let lag = 0;
  const stop = ticker(ctx, () => `[a] sent ${sents.length + inFlight}/${total}, accepted ${sents.filter((s) => s.ok).length}, delivered ${ctx.receivers.deliveredCount('a')}`);
  const start = Date.now();
  const pending: Promise<void>[] = [];
  for (let n = 0; n < total; n += 1) {
    const due = start + (n * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    // A bound on open requests, so a stalled API cannot make the generator grow without end.
    while (inFlight >= 2_000) await sleep(5);
    lag = Math.max(lag, Date.now() - due);
    inFlight += 1;
    pending.push(
      postEvent(ctx, 'a', n, tenants[n % tenants.length]!).then((s) => {
        inFlight -= 1;
        sents.push(s);
      }),
    );
  }
  await Promise.all(pending);
  const expected = sents.filter((s) => s.ok).length;
  const drained = await drain(ctx.opts.drainTimeout, () => ctx.receivers.deliveredCount('a') >= expected);
  const waitEnded = Date.now();
  stop();
  const usage = window?.close();
  if (drained) await settle(ctx);
  const result = receiptsResult(ctx, 'a', `steady ${rate}/s for ${duration} s, 1 endpoint each`, sents, 1, waitEnded, usage);
  result.sendLagMaxMs = lag;
  return result;
}

/**
 * Closed loop: `count` events, at most --concurrency in flight, to `perEvent` endpoints each; event n goes
 * to tenants[n % tenants.length]. `check` adds notes from the requests once every delivery arrived.
 */
export async function burst(
  ctx: Ctx, tag: string, title: string, count: number, tenants: string[], perEvent: number, check?: (sents: Sent[]) => string[],
): Promise<ScenarioResult> {
  const window = ctx.sampler?.open();
  const sents: Sent[] = [];
  const stop = ticker(ctx, () => `[${tag}] accepted ${sents.filter((s) => s.ok).length}/${count}, delivered ${ctx.receivers.deliveredCount(tag)}/${count * perEvent}`);
  await inPool(count, ctx.opts.concurrency, async (n) => {
    sents.push(await postEvent(ctx, tag, n, tenants[n % tenants.length]!));
  });
  const expected = sents.filter((s) => s.ok).length * perEvent;
  const drained = await drain(ctx.opts.maxWait, () => ctx.receivers.deliveredCount(tag) >= expected);
  const waitEnded = Date.now();
  stop();
  const usage = window?.close();
  if (drained) await settle(ctx);
  const result = receiptsResult(ctx, tag, title, sents, perEvent, waitEnded, usage);
  result.notes.push(...(check?.(sents) ?? []));
  return result;
}

/** b. Maximum throughput: N events as fast as ingest allows. */
export async function maximum(ctx: Ctx): Promise<ScenarioResult> {
  const tenants = await endpointGroup(ctx, 'single', SINGLE_TENANTS, 1);
  return burst(ctx, 'b', `${ctx.opts.events} events, ${ctx.opts.concurrency} in flight, 1 endpoint each`, ctx.opts.events, tenants, 1);
}

/** c. Fan-out: one event to --fanout endpoints of one tenant. */
export async function fanoutOne(ctx: Ctx): Promise<ScenarioResult> {
  const { fanout } = ctx.opts;
  ctx.progress(`[c1] creating ${fanout} endpoints`);
  const [tenant] = await endpointGroup(ctx, 'c1', 1, fanout);
  return burst(ctx, 'c1', `1 event to ${fanout} endpoints`, 1, [tenant!], fanout);
}

/** c. Fan-out: N/10 events to 10 endpoints each. */
export async function fanoutTen(ctx: Ctx): Promise<ScenarioResult> {
  const [tenant] = await endpointGroup(ctx, 'c10', 1, 10);
  const count = Math.max(1, Math.round(ctx.opts.events / 10));
  return burst(ctx, 'c10', `${count} events to 10 endpoints each`, count, [tenant!], 10);
}

/**
 * Pairs of events the contract orders that arrived the other way round: A's 202 came back before B was
 * sent, both went to the same FIFO queue (`sameQueue`), and B arrived first. 0 on a correct run.
 */
function orderViolations(ctx: Ctx, sents: Sent[], sameQueue: (a: Sent, b: Sent) => boolean): number {
  const first = (s: Sent) => ctx.receivers.arrivals.get(s.id)?.[0];
  const ok = sents.filter((s) => s.ok && first(s) !== undefined);
  let violations = 0;
  for (const a of ok) {
    for (const b of ok) {
      if (a.ackAt < b.sentAt && sameQueue(a, b) && first(b)! < first(a)!) violations += 1;
    }
  }
  return violations;
}

/** o1. One FIFO endpoint: --fifo-events events, one at a time by the contract, to a receiver that answers at once. */
export async function fifoOne(ctx: Ctx): Promise<ScenarioResult> {
  const tenants = await endpointGroup(ctx, 'o1', 1, 1, undefined, { ordering: 'fifo' });
  return burst(ctx, 'o1', `${ctx.opts.fifoEvents} events to 1 FIFO endpoint, ${ctx.opts.concurrency} in flight`, ctx.opts.fifoEvents, tenants, 1, (sents) => [
    `order: ${orderViolations(ctx, sents, () => true)} pairs of events arrived against the order of their 202s`,
  ]);
}

/**
 * o20 / u20. --fifo-endpoints endpoints, one per tenant, --fifo-per-endpoint events each, side by side:
 * FIFO endpoints (o20), and the same load on unordered ones (u20), for the ratio of the two.
 */
export function fifoMany(ordering: 'fifo' | 'unordered') {
  return async (ctx: Ctx): Promise<ScenarioResult> => {
    const tag = ordering === 'fifo' ? 'o20' : 'u20';
    const { fifoEndpoints: endpoints, fifoPerEndpoint: each } = ctx.opts;
    const tenants = await endpointGroup(ctx, tag, endpoints, 1, undefined, { ordering });
    // Event n went to tenant n % endpoints (burst), each tenant's one endpoint being one queue.
    const queueOf = (s: Sent) => Number(s.id.slice(s.id.lastIndexOf('.') + 1)) % endpoints;
    const title = `${endpoints} ${ordering === 'fifo' ? 'FIFO' : 'unordered'} endpoints × ${each} events, ${ctx.opts.concurrency} in flight`;
    return burst(ctx, tag, title, endpoints * each, tenants, 1, (sents) =>
      ordering === 'fifo' ? [`order: ${orderViolations(ctx, sents, (a, b) => queueOf(a) === queueOf(b))} pairs of events arrived against the order of their 202s`] : [],
    );
  };
}

/**
 * e. The wire ceiling: the same signed POSTs hookflow's deliver activity makes (its own HTTP client,
 * same body shape and signature), from this process to the same receivers, with no Temporal and no
 * database in between.
 */
export async function wire(ctx: Ctx): Promise<ScenarioResult> {
  const count = ctx.opts.wireEvents;
  const http = createHttpClient({ timeoutMs: 30_000, allowPrivateNetwork: true });
  const secret = generateSecret();
  const window = ctx.sampler?.open();
  const sents: Sent[] = [];
  let waitEnded = Date.now();
  const stop = ticker(ctx, () => `[e] posted ${sents.length}/${count}, received ${ctx.receivers.deliveredCount('e')}`);
  try {
    await inPool(count, ctx.opts.concurrency, async (n) => {
      const id = eventId(ctx, 'e', n);
      const sentAt = Date.now();
      const { body, headers } = webhookRequest(
        { id, type: 'bench.ping', tenantId: 'bench', createdAt: new Date(sentAt), payloadJson: `{"n":${n},"sentAt":${sentAt}}` },
        [secret],
        sentAt,
      );
      const result = await http.post(ctx.receivers.url('single', n % SINGLE_TENANTS), headers, body);
      const status = 'statusCode' in result.outcome ? result.outcome.statusCode : undefined;
      sents.push({ id, sentAt, ackAt: Date.now(), ok: status !== undefined && status >= 200 && status < 300, status: String(status ?? 'error') });
    });
    const expected = sents.filter((s) => s.ok).length;
    await drain(ctx.opts.maxWait, () => ctx.receivers.deliveredCount('e') >= expected);
    waitEnded = Date.now();
  } finally {
    stop();
    await http.close();
  }
  const usage = window?.close();
  return receiptsResult(ctx, 'e', `${count} signed POSTs straight to the receivers, ${ctx.opts.concurrency} in flight`, sents, 1, waitEnded, usage);
}
