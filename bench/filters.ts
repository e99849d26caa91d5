/**
 * Payload filters (issue 19). `--scenarios f`: one event to 100 endpoints without filters, beside one event
 * to 1,000 endpoints of which 900 filter it out — the same 100 deliveries, so the last receipt and the
 * server's CPU should be about the same (a dropped endpoint costs a filter evaluation, no workflow).
 * `--scenarios filter-eval`: the filter's own cost, CPU only, no stack.
 */
import { compileFilter, parseExactJson } from '../src/filters/filter';
import { filterEventText } from '../src/filters/event';
import { burst, endpointGroup, type Ctx, type ScenarioResult } from './scenarios';
import { round1 } from './stats';

/** The kept endpoints' filter matches bench events (`{"n", "sentAt"}`); the dropped ones' never does. */
const KEEPS = { data: { n: { $gte: 0 }, sentAt: { $gt: 0 } } };
const DROPS = { data: { n: { $lt: 0 } } };

/** f100: one event to 100 endpoints, no filters. */
export async function unfiltered(ctx: Ctx): Promise<ScenarioResult> {
  ctx.progress('[f100] creating 100 endpoints');
  const [tenant] = await endpointGroup(ctx, 'f100', 1, 100);
  return burst(ctx, 'f100', `${ctx.opts.filterEvents} × 1 event to 100 endpoints, no filters`, ctx.opts.filterEvents, [tenant!], 100);
}

/** f1000: one event to 1,000 endpoints, 900 of which filter it out; 100 deliveries. */
export async function filtered(ctx: Ctx): Promise<ScenarioResult> {
  ctx.progress('[f1000] creating 1,000 endpoints, 900 with a filter that drops bench events');
  // Every tenth endpoint keeps the event: kept and dropped ones share each page of 500.
  const [tenant] = await endpointGroup(ctx, 'f1000', 1, 1_000, (n) => (n % 10 === 0 ? KEEPS : DROPS));
  return burst(ctx, 'f1000', `${ctx.opts.filterEvents} × 1 event to 1,000 endpoints, 900 filter it out`, ctx.opts.filterEvents, [tenant!], 100);
}

export type FilterEvalReport = {
  payloadBytes: number;
  conditions: number;
  /** Median of the rounds, microseconds per call. */
  evaluateMicros: number;
  /** Reading the event (envelope + payload) with lossless-json, once per message and page. */
  parseEventMicros: number;
  /** Compiling the filter, once per distinct filter text (then cached). */
  compileMicros: number;
  rounds: number;
  iterations: number;
};

/** A 10 KiB order: nested objects, an array of line items, strings, long and decimal numbers. */
function payload(): string {
  const lines = Array.from({ length: 40 }, (_, i) => ({ sku: `SKU-${1000 + i}`, title: `Line item ${i} — blue widget`, qty: (i % 5) + 1, price: `@${(i * 7.25 + 0.1).toFixed(2)}` }));
  const order = {
    orderId: 'ord_0123456789',
    status: 'paid',
    region: 'eu-west-1',
    total: '@12345678901234567890.10',
    currency: 'EUR',
    customer: { id: 'cus_42', email: 'jane@example.com', tier: 'gold', tags: ['vip', 'beta', 'newsletter'], address: { country: 'DE', city: 'Berlin', zip: '10115' } },
    lines,
    notes: 'x'.repeat(4_000),
    flags: { gift: false, express: true, fragile: null },
  };
  // Decimal amounts as numbers with their digits, not strings: '@' marks them for the replacement below.
  let text = JSON.stringify(order).replace(/"@([0-9.]+)"/g, '$1');
  while (Buffer.byteLength(text) < 10_240) text = text.replace('"notes":"', '"notes":"xxxxxxxxxx');
  return text;
}

/**
 * 20 conditions over the payload, all true, so every one is evaluated (the worst case for a match): type,
 * tenantId, channels, status, region, total (2), currency, tier, tags, email, country, zip, a line item's sku
 * and qty, express, fragile, coupon, and the two alternatives of $or.
 */
const CONDITIONS = 20;
const FILTER = JSON.stringify({
  type: 'order.paid',
  tenantId: { $startsWith: 'bench' },
  channels: 'eu',
  data: {
    status: { $in: ['paid', 'refunded'] },
    region: { $startsWith: 'eu-' },
    total: { $gte: 1000, $lt: 1e21 },
    currency: { $neq: 'USD' },
    customer: { tier: 'gold', tags: { $in: ['vip'] }, email: { $endsWith: '@example.com' }, address: { country: { $nin: ['US', 'CA'] }, zip: { $exist: true } } },
    lines: { sku: 'SKU-1039', qty: { $lte: 5 } },
    flags: { express: true, fragile: null },
    coupon: { $exist: false },
  },
  $or: [{ data: { status: 'paid' } }, { data: { status: 'refunded' } }],
});

function micros(iterations: number, fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) fn();
  return Number(process.hrtime.bigint() - start) / 1_000 / iterations;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function filterEval(o: { rounds: number; iterations: number }): FilterEvalReport {
  const data = payload();
  const eventText = filterEventText({ id: 'msg_bench', type: 'order.paid', tenantId: 'bench-tenant', createdAt: new Date(0), payloadJson: data }, ['eu', 'orders']);
  const match = compileFilter(FILTER);
  const event = parseExactJson(eventText);
  if (!match(event)) throw new Error('the benchmark filter must match its event');
  // Warm-up: the JIT compiles the hot paths before anything is timed.
  micros(o.iterations, () => match(event));
  const evaluate: number[] = [];
  const parse: number[] = [];
  const compile: number[] = [];
  for (let r = 0; r < o.rounds; r += 1) {
    evaluate.push(micros(o.iterations, () => match(event)));
    // A fresh parse each time: the evaluation reads each number once per event, as the activity does.
    parse.push(micros(Math.max(1, o.iterations / 20), () => parseExactJson(eventText)));
    compile.push(micros(Math.max(1, o.iterations / 20), () => compileFilter(FILTER)));
  }
  return {
    payloadBytes: Buffer.byteLength(data),
    conditions: CONDITIONS,
    evaluateMicros: Math.round(median(evaluate) * 100) / 100,
    parseEventMicros: round1(median(parse)),
    compileMicros: round1(median(compile)),
    rounds: o.rounds,
    iterations: o.iterations,
  };
}

export function renderFilterEval(r: FilterEvalReport): string {
  return [
    `filter of ${r.conditions} conditions on a ${r.payloadBytes}-byte payload (median of ${r.rounds} rounds of ${r.iterations}):`,
    `  evaluate, per endpoint and message:   ${r.evaluateMicros} µs`,
    `  read the event, per message and page: ${r.parseEventMicros} µs`,
    `  compile, per distinct filter text:    ${r.compileMicros} µs`,
  ].join('\n');
}
