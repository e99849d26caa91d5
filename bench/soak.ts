/**
 * `--scenarios soak` (issue 11, step 4): does memory settle? The embedded stack idles for a minute,
 * then takes `--soak-rate` events a second for `--soak-minutes`, open loop, to 10 one-endpoint
 * tenants. Every `--sample-seconds` it records the whole tree's RSS (by process group) and PSS, the
 * benchmark process's V8 heap. The report
 * gives the mean of the first, middle and last thirds of the load, whether the last third stays within
 * 5 % of the middle one (levelled off), and whether every event was delivered exactly once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { treeMemory, type Group } from './procs';
import { endpointGroup, postEvent, summarize, warmUp, type Ctx, type Sent } from './scenarios';
import { round1, sleep, type Latency } from './stats';

export type SoakOptions = { minutes: number; rate: number; sampleSeconds: number; out: string; settings: Record<string, string>; idleSeconds?: number };

export type SoakSample = {
  /** Seconds since the load started (negative: the idle minute before it). */
  t: number;
  rssMiB: Record<Group | 'total', number>;
  pssMiB: number;
  processes: number;
  /** hookflow's main V8 heap, when it runs in the bench's process. */
  heapUsedMiB: number | null;
  sent: number;
  delivered: number;
};

type Third = { rssMiB: number; pssMiB: number; from: number; to: number };

export type SoakReport = {
  options: SoakOptions;
  idle: { rssMiB: number; pssMiB: number; byGroup: Record<Group | 'total', number> } | undefined;
  thirds: { first: Third; middle: Third; last: Third } | undefined;
  /** Last third's mean RSS against the middle third's, %; levelled when within ±5 %. */
  lastVsMiddlePercent: number | null;
  levelled: boolean | null;
  peakRssMiB: number;
  sent: number;
  accepted: number;
  delivered: number;
  duplicates: number;
  everyEventDelivered: boolean;
  latencyMs?: Latency;
  samples: SoakSample[];
};

const mean = (xs: number[]) => (xs.length ? round1(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);

export async function soak(ctx: Ctx, o: SoakOptions): Promise<SoakReport> {
  const hookflowPid = ctx.stack.pid;
  if (!hookflowPid) throw new Error('soak measures the stack it starts itself, not BENCH_TARGET_URL');
  const idleSeconds = o.idleSeconds ?? 60;
  const receiverPid = ctx.receivers.pid;
  const samples: SoakSample[] = [];
  const sents: Sent[] = [];
  let loadStart = Date.now();
  let sending = false;
  const sample = () => {
    const m = treeMemory(hookflowPid, [receiverPid]);
    samples.push({
      t: Math.round((Date.now() - loadStart) / 1000),
      rssMiB: m.rssMiB,
      pssMiB: m.pssMiB,
      processes: m.processes,
      heapUsedMiB: ctx.stack.mode === 'in-process' ? round1(process.memoryUsage().heapUsed / 2 ** 20) : null,
      sent: sents.length,
      delivered: ctx.receivers.deliveredCount('s'),
    });
    const last = samples[samples.length - 1]!;
    ctx.progress(`[soak] t=${last.t}s RSS ${last.rssMiB.total} MiB (node ${last.rssMiB.node}, temporal ${last.rssMiB.temporal}, postgres ${last.rssMiB.postgres}), PSS ${last.pssMiB} MiB, sent ${last.sent}, delivered ${last.delivered}`);
  };

  await warmUp(ctx);
  const tenants = await endpointGroup(ctx, 'single', 10, 1);
  ctx.progress(`[soak] idle for ${idleSeconds} s`);
  loadStart = Date.now() + idleSeconds * 1000;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    timer = setTimeout(() => {
      sample();
      tick();
    }, o.sampleSeconds * 1000);
  };
  sample();
  tick();
  await sleep(idleSeconds * 1000);
  const idleSamples = samples.filter((s) => s.t < 0);

  ctx.progress(`[soak] ${o.rate} events/s for ${o.minutes} min`);
  sending = true;
  const total = Math.round(o.rate * o.minutes * 60);
  const pending: Promise<void>[] = [];
  let inFlight = 0;
  for (let n = 0; n < total && sending; n += 1) {
    const wait = loadStart + (n * 1000) / o.rate - Date.now();
    if (wait > 0) await sleep(wait);
    while (inFlight >= 2_000) await sleep(5);
    inFlight += 1;
    pending.push(
      postEvent(ctx, 's', n, tenants[n % tenants.length]!).then((s) => {
        inFlight -= 1;
        sents.push(s);
      }),
    );
  }
  await Promise.all(pending);
  const loadEnd = Date.now();
  const accepted = sents.filter((s) => s.ok).length;
  const deadline = Date.now() + Math.max(60, ctx.opts.drainTimeout) * 1000;
  while (ctx.receivers.deliveredCount('s') < accepted && Date.now() < deadline) await sleep(100);
  const waitEnded = Date.now();
  clearTimeout(timer);
  sample();

  const loadSeconds = (loadEnd - loadStart) / 1000;
  const during = samples.filter((s) => s.t >= 0 && s.t <= loadSeconds);
  const third = (i: number): Third => {
    const from = (loadSeconds * i) / 3;
    const to = (loadSeconds * (i + 1)) / 3;
    const xs = during.filter((s) => s.t >= from && (i === 2 ? s.t <= to : s.t < to));
    return { rssMiB: mean(xs.map((s) => s.rssMiB.total)), pssMiB: mean(xs.map((s) => s.pssMiB)), from: Math.round(from), to: Math.round(to) };
  };
  const thirds = during.length >= 3 ? { first: third(0), middle: third(1), last: third(2) } : undefined;
  const lastVsMiddle = thirds && thirds.middle.rssMiB > 0 ? round1(((thirds.last.rssMiB - thirds.middle.rssMiB) / thirds.middle.rssMiB) * 100) : null;
  const delivered = ctx.receivers.deliveredCount('s');
  const duplicates = ctx.receivers.duplicateCount('s');
  const latencies = summarize({
    id: 's', title: 'soak', sents, expectedDeliveries: accepted, delivered, duplicates,
    lastArrival: ctx.receivers.lastArrival('s'), arrivals: (id) => ctx.receivers.arrivals.get(id), perRequest: 1, waitEnded,
  }).latencyMs;
  const groups = Object.keys(idleSamples[0]?.rssMiB ?? {}) as (Group | 'total')[];
  const report: SoakReport = {
    options: o,
    idle: idleSamples.length
      ? {
          rssMiB: mean(idleSamples.map((s) => s.rssMiB.total)),
          pssMiB: mean(idleSamples.map((s) => s.pssMiB)),
          byGroup: Object.fromEntries(groups.map((g) => [g, mean(idleSamples.map((s) => s.rssMiB[g]))])) as Record<Group | 'total', number>,
        }
      : undefined,
    thirds,
    lastVsMiddlePercent: lastVsMiddle,
    levelled: lastVsMiddle === null ? null : Math.abs(lastVsMiddle) <= 5,
    peakRssMiB: Math.max(...samples.map((s) => s.rssMiB.total)),
    sent: sents.length,
    accepted,
    delivered,
    duplicates,
    everyEventDelivered: delivered === accepted && accepted === sents.length,
    latencyMs: latencies,
    samples,
  };
  mkdirSync(dirname(resolve(o.out)), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

export function renderSoak(r: SoakReport): string {
  const lines = [`Soak: ${r.options.rate} events/s for ${r.options.minutes} min, a memory sample every ${r.options.sampleSeconds} s (whole tree: API + worker process, engine, Postgres; receivers excluded)`];
  if (r.idle) lines.push(`idle (before the load): RSS ${r.idle.rssMiB} MiB (${Object.entries(r.idle.byGroup).filter(([g]) => g !== 'total').map(([g, v]) => `${g} ${v}`).join(', ')}), PSS ${r.idle.pssMiB} MiB`);
  if (r.thirds) {
    lines.push('| third of the load | seconds | mean RSS MiB | mean PSS MiB |', '| --- | ---: | ---: | ---: |');
    for (const [name, t] of Object.entries(r.thirds)) lines.push(`| ${name} | ${t.from}–${t.to} | ${t.rssMiB} | ${t.pssMiB} |`);
  }
  lines.push(`last third vs middle third: ${r.lastVsMiddlePercent ?? 'n/a'}% → ${r.levelled === null ? 'too few samples' : r.levelled ? 'levelled off (within 5 %)' : 'NOT levelled off'}`);
  lines.push(`peak RSS ${r.peakRssMiB} MiB; ${r.delivered}/${r.accepted} delivered (${r.sent} sent), ${r.duplicates} duplicates → ${r.everyEventDelivered ? 'every event delivered' : 'NOT every event delivered'}`);
  if (r.latencyMs) lines.push(`latency (sent → receipt) p50 ${r.latencyMs.p50 ?? '>wait'} ms, p99 ${r.latencyMs.p99 ?? '>wait'} ms, max ${r.latencyMs.max ?? '>wait'} ms`);
  return lines.join('\n');
}
