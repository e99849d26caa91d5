/**
 * The end of a run: the results table, resources per scenario, the ratios to the two ceilings and the
 * issue's targets, met or missed, all computed from the measured figures.
 */
import type { ScenarioResult } from './scenarios';
import type { Latency } from './stats';

export type Machine = {
  cores: number;
  memoryGiB: number;
  node: string;
  temporal: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  stack: string;
};

export type Ratio = { scenario: string; ofEngine: number | null; ofWire: number | null };
export type Target = { name: string; goal: string; measured: string; met: boolean | null; by: string };

export type Report = { command: string; startedAt: string; machine: Machine; options: Record<string, unknown>; results: ScenarioResult[]; ratios: Ratio[]; targets: Target[] };

const HOOKFLOW = ['a', 'b', 'c1', 'c10'];

export function ratios(results: ScenarioResult[]): Ratio[] {
  const d = results.find((r) => r.id === 'd')?.deliveriesPerSecond ?? null;
  const e = results.find((r) => r.id === 'e')?.deliveriesPerSecond ?? null;
  return results
    .filter((r) => HOOKFLOW.includes(r.id))
    .map((r) => ({
      scenario: r.id,
      ofEngine: r.deliveriesPerSecond !== null && d ? Math.round((r.deliveriesPerSecond / d) * 1000) / 1000 : null,
      ofWire: r.deliveriesPerSecond !== null && e ? Math.round((r.deliveriesPerSecond / e) * 1000) / 1000 : null,
    }));
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export function targets(results: ScenarioResult[], fanout: number): Target[] {
  const out: Target[] = [];
  const by = (id: string) => results.find((r) => r.id === id);
  const a = by('a');
  const b = by('b');
  const c1 = by('c1');
  const d = by('d');
  if (b && d && b.deliveriesPerSecond !== null && d.deliveriesPerSecond) {
    const ratio = b.deliveriesPerSecond / d.deliveriesPerSecond;
    out.push({ name: 'b: deliveries/s ≥ 70% of engine ceiling', goal: '≥ 70%', measured: `${b.deliveriesPerSecond} / ${d.deliveriesPerSecond} = ${pct(ratio)}`, met: ratio >= 0.7, by: `${ratio >= 0.7 ? '+' : ''}${Math.round((ratio - 0.7) * 1000) / 10} points` });
  }
  if (a?.latencyMs) {
    const l = a.latencyMs;
    for (const [name, value, goal] of [['p50', l.p50, 50], ['p99', l.p99, 250]] as const) {
      if (value === null) {
        out.push({ name: `a: latency ${name} ≤ ${goal} ms`, goal: `≤ ${goal} ms`, measured: `> ${l.waitedMs} ms (not delivered when the wait ended)`, met: false, by: `> +${l.waitedMs! - goal} ms` });
      } else {
        out.push({ name: `a: latency ${name} ≤ ${goal} ms`, goal: `≤ ${goal} ms`, measured: `${value} ms`, met: value <= goal, by: `${value <= goal ? '' : '+'}${value - goal} ms (${(value / goal).toFixed(1)}×)` });
      }
    }
  }
  if (a) {
    out.push({ name: 'a: no event refused', goal: '0 refused', measured: `${a.refused} of ${a.sent} refused`, met: a.refused === 0, by: a.refused === 0 ? '0' : `${a.refused} refused` });
  }
  if (c1) {
    const all = c1.delivered >= c1.expectedDeliveries && c1.expectedDeliveries > 0;
    const s = c1.seconds;
    const goal = fanout === 1000 ? '≤ 30 s' : `≤ 30 s (asked for 1,000 endpoints; this run used ${fanout})`;
    out.push({
      name: `c: 1 → ${fanout} endpoints all delivered ≤ 30 s`,
      goal,
      measured: all && s !== null ? `${s} s` : `${c1.delivered}/${c1.expectedDeliveries} delivered${s !== null ? ` after ${s} s` : ''}`,
      met: fanout === 1000 ? all && s !== null && s <= 30 : null,
      by: s !== null ? `${s <= 30 ? '' : '+'}${Math.round((s - 30) * 10) / 10} s (${(s / 30).toFixed(1)}×)` : 'n/a',
    });
  }
  const o1 = by('o1');
  if (o1 && o1.deliveriesPerSecond !== null) {
    const v = o1.deliveriesPerSecond;
    out.push({ name: 'o1: one FIFO endpoint ≥ 10 deliveries/s', goal: '≥ 10/s', measured: `${v}/s`, met: v >= 10, by: `${v >= 10 ? '+' : ''}${Math.round((v - 10) * 10) / 10}/s` });
  }
  const o20 = by('o20');
  const u20 = by('u20');
  if (o20 && u20 && o20.deliveriesPerSecond !== null && u20.deliveriesPerSecond) {
    const ratio = o20.deliveriesPerSecond / u20.deliveriesPerSecond;
    out.push({ name: 'o20: FIFO endpoints side by side within 20% of unordered (u20)', goal: '≥ 80%', measured: `${o20.deliveriesPerSecond} / ${u20.deliveriesPerSecond} = ${pct(ratio)}`, met: ratio >= 0.8, by: `${ratio >= 0.8 ? '+' : ''}${Math.round((ratio - 0.8) * 1000) / 10} points` });
  }
  const loaded = results.filter((r) => HOOKFLOW.includes(r.id) && r.usage);
  if (loaded.length > 0) {
    const peak = loaded.reduce((m, r) => (r.usage!.peakRssMiB.total > m.usage!.peakRssMiB.total ? r : m));
    const total = peak.usage!.peakRssMiB.total;
    out.push({ name: 'whole stack ≤ 600 MiB RSS under load', goal: '≤ 600 MiB', measured: `${total} MiB (peak, scenario ${peak.id}; PSS at its end ${peak.usage!.endPssTotalMiB} MiB)`, met: total <= 600, by: `${total <= 600 ? '' : '+'}${Math.round((total - 600) * 10) / 10} MiB` });
  }
  return out;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const width = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join(' | ')} |`;
  return [line(head), `|${width.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

const f = (n: number | null | undefined) => (n === null || n === undefined ? 'n/a' : String(n));
/** A latency percentile; null means it falls among deliveries still missing after `waitedMs`. */
const lat = (l: Latency | undefined, n: number | null | undefined) => (!l ? 'n/a' : n === null || n === undefined ? `>${l.waitedMs}` : String(n));

export function renderReport(r: Report): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(`hookflow benchmark — ${r.startedAt}`);
  out.push(`command: ${r.command}`);
  out.push(`machine: ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.temporal}`);
  out.push(`load average (1/5/15 min): ${m.loadAverageStart.join(' ')} at start, ${m.loadAverageEnd.join(' ')} at end`);
  out.push(`stack: ${m.stack}`);
  out.push(`options: ${JSON.stringify(r.options)}`);
  out.push('');
  out.push('Throughput and latency (ms; latency = request sent → receipt at the receiver; ack = request sent → its answer: 202, workflow start, or 200)');
  out.push(
    table(
      ['scenario', 'sent', 'accepted', 'refused', 'delivered', 'dup', 'ingest/s', 'deliveries/s', 'p50', 'p95', 'p99', 'max', 'seconds', 'ack p50', 'ack p99'],
      r.results.map((x) => [
        `${x.id}: ${x.title}`, x.sent, x.accepted, x.refused, `${x.delivered}/${x.expectedDeliveries}`, x.duplicates,
        f(x.ingestPerSecond), f(x.deliveriesPerSecond), lat(x.latencyMs, x.latencyMs?.p50), lat(x.latencyMs, x.latencyMs?.p95), lat(x.latencyMs, x.latencyMs?.p99), lat(x.latencyMs, x.latencyMs?.max),
        f(x.seconds), f(x.ackLatencyMs?.p50), f(x.ackLatencyMs?.p99),
      ]),
    ),
  );
  const withUsage = r.results.filter((x) => x.usage);
  if (withUsage.length > 0) {
    out.push('');
    out.push(`Resources: RSS (MiB) at the sample with the highest total; CPU as % of one core over the scenario (all cores = ${m.cores * 100}%); 'rest of machine' is work outside the benchmark`);
    out.push(
      table(
        ['scenario', 'node', 'temporal', 'postgres (procs)', 'engine', 'other', 'total RSS', 'PSS at end', 'cpu node', 'cpu temporal', 'cpu postgres', 'cpu engine', 'cpu other', 'cpu receivers', 'cpu bench', 'cpu rest of machine', 'wall s'],
        withUsage.map((x) => {
          const u = x.usage!;
          return [
            x.id, u.peakRssMiB.node, u.peakRssMiB.temporal, `${u.peakRssMiB.postgres} (${u.processes.postgres})`, u.peakRssMiB.engine, u.peakRssMiB.other, u.peakRssMiB.total, u.endPssTotalMiB,
            `${u.cpuPercent.node}%`, `${u.cpuPercent.temporal}%`, `${u.cpuPercent.postgres}%`, `${u.cpuPercent.engine}%`, `${u.cpuPercent.other}%`, `${u.receiverCpuPercent}%`, `${u.benchCpuPercent}%`, `${u.restOfMachineCpuPercent}%`, u.wallSeconds,
          ];
        }),
      ),
    );
    const heaps = withUsage.filter((x) => x.usage!.nodeMainHeapMiB);
    if (heaps.length > 0) out.push(`node main-thread V8 heap at those samples (MiB, total/used/external): ${heaps.map((x) => `${x.id} ${x.usage!.nodeMainHeapMiB!.heapTotal}/${x.usage!.nodeMainHeapMiB!.heapUsed}/${x.usage!.nodeMainHeapMiB!.external}`).join(', ')}`);
    out.push('');
    out.push('CPU per delivery (ms of CPU time per delivered request; independent of how busy the rest of the machine was)');
    out.push(
      table(
        ['scenario', 'node', 'temporal', 'postgres', 'engine', 'stack total', 'receivers'],
        withUsage.map((x) => {
          const c = x.usage!.cpuSeconds;
          // With a backlog left behind, CPU went into work whose deliveries were not counted.
          const complete = x.delivered > 0 && x.delivered >= x.expectedDeliveries;
          const per = (s: number) => (complete ? Math.round((s * 1000 * 10) / x.delivered) / 10 : 'n/a (backlog)');
          return [x.id, per(c.node), per(c.temporal), per(c.postgres), per(c.engine), per(c.node + c.temporal + c.postgres + c.engine + c.other), per(x.usage!.receiverCpuSeconds)];
        }),
      ),
    );
    const others = [...new Set(withUsage.flatMap((x) => x.usage!.otherNames))];
    if (others.length > 0) out.push(`other = ${others.join(', ')}`);
  }
  if (r.ratios.length > 0) {
    out.push('');
    out.push('Ratios of deliveries/s');
    out.push(table(['scenario', '÷ engine ceiling (d)', '÷ wire ceiling (e)'], r.ratios.map((x) => [x.scenario, x.ofEngine === null ? 'n/a' : pct(x.ofEngine), x.ofWire === null ? 'n/a' : pct(x.ofWire)])));
  }
  if (r.targets.length > 0) {
    out.push('');
    out.push('Targets (issue 5; o: issue 18)');
    out.push(table(['target', 'goal', 'measured', 'verdict', 'by'], r.targets.map((t) => [t.name, t.goal, t.measured, t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED', t.by])));
  }
  const notes = r.results.flatMap((x) => [
    ...x.notes.map((n) => `${x.id}: ${n}`),
    ...(Object.keys(x.refusals).length > 0 ? [`${x.id}: refusals ${JSON.stringify(x.refusals)}`] : []),
    ...(x.sendLagMaxMs !== undefined ? [`${x.id}: the generator sent at most ${x.sendLagMaxMs} ms late`] : []),
  ]);
  if (notes.length > 0) {
    out.push('');
    out.push(...notes);
  }
  return out.join('\n');
}
