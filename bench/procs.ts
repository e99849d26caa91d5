/**
 * What the stack's processes cost while a scenario runs, read from /proc: resident memory (VmRSS, and
 * PSS, which shares Postgres's shared buffers out fairly among its backends) and CPU time (utime +
 * stime). The stack is hookflow's Node process — the `npm start` child, or this process when the stack
 * runs in it — and its descendants (the Temporal dev server, the postmaster and its backends), less the
 * receiver child, which is not part of hookflow; plus scenario d's engine worker once labelled.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** `engine` is scenario d's worker process; `other` anything else under this process (tsx's esbuild). */
export type Group = 'node' | 'temporal' | 'postgres' | 'engine' | 'other';
export const GROUPS: Group[] = ['node', 'temporal', 'postgres', 'engine', 'other'];

type Proc = { pid: number; ppid: number; comm: string; ticks: number };

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may hold spaces; the numbered fields follow the last ')'.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15 (proc(5)).
    return { pid, ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // the process ended between listing and reading
  }
}

function kib(path: string, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(path, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Every descendant of the roots (and the roots), each once, skipping the subtrees of `exclude`. */
export function processTree(roots: number | number[], exclude: number[] = []): Proc[] {
  const all: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) all.push(p);
  }
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const rootPids = new Set(Array.isArray(roots) ? roots : [roots]);
  const out: Proc[] = [];
  const seen = new Set<number>();
  const stack = all.filter((p) => rootPids.has(p.pid));
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (exclude.includes(p.pid) || seen.has(p.pid)) continue;
    seen.add(p.pid);
    out.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/** `node` is hookflow's own process (the first root). */
function groupOf(p: Proc, root: number, labels: Map<number, Group>): Group {
  const label = labels.get(p.pid);
  if (label) return label;
  if (p.pid === root) return 'node';
  // `temporal-server` is the real server (TEMPORAL_ENGINE=server), installed under that name.
  if (p.comm === 'temporal' || p.comm === 'temporal-server') return 'temporal';
  if (p.comm.startsWith('postgres')) return 'postgres';
  return 'other';
}

/** RSS by group and PSS of the whole tree under `root` now (PSS walks every mapping: tens of ms). MiB. */
export function treeMemory(root: number, exclude: number[] = []): { rssMiB: Record<Group | 'total', number>; pssMiB: number; processes: number } {
  const procs = processTree(root, exclude);
  const rss = zero();
  let pss = 0;
  for (const p of procs) {
    rss[groupOf(p, root, new Map())] += kib(`/proc/${p.pid}/status`, 'VmRSS');
    pss += kib(`/proc/${p.pid}/smaps_rollup`, 'Pss');
  }
  const rssMiB = Object.fromEntries(GROUPS.map((g) => [g, mib(rss[g])])) as Record<Group, number>;
  return { rssMiB: { ...rssMiB, total: mib(GROUPS.reduce((s, g) => s + rss[g], 0)) }, pssMiB: mib(pss), processes: procs.length };
}

export type Usage = {
  /** The sample with the largest total RSS, and how it splits. MiB. */
  peakRssMiB: Record<Group | 'total', number>;
  /**
   * PSS of the stack's processes, summed, when the scenario ended: Postgres's shared buffers counted
   * once. Read once per scenario, because it walks every mapping (tens of ms for a Node process). MiB.
   */
  endPssTotalMiB: number;
  /** The main V8 heap and off-heap buffers at that sample when hookflow runs in this process (worker threads' heaps are not in it). MiB. */
  nodeMainHeapMiB?: { heapTotal: number; heapUsed: number; external: number };
  /** Processes per group at that sample, e.g. Postgres backends. */
  processes: Record<Group, number>;
  /** Names of the 'other' processes (e.g. esbuild, started by tsx). */
  otherNames: string[];
  /** CPU seconds each group used during the window, and as % of one core over the window's wall time. */
  cpuSeconds: Record<Group, number>;
  cpuPercent: Record<Group, number>;
  /** CPU of the receiver process, and of everything else on the machine (other people's work), % of one core. */
  receiverCpuPercent: number;
  receiverCpuSeconds: number;
  /** CPU of the benchmark's own process (load generator, sampler; scenario e's POSTs) when hookflow runs in a child. */
  benchCpuPercent: number;
  restOfMachineCpuPercent: number;
  samples: number;
  wallSeconds: number;
};

type Window = {
  startedAt: number;
  machineTicks: number;
  receiverTicks: number;
  benchTicks: number;
  baseTicks: Map<number, number>;
  lastTicks: Map<number, { group: Group; ticks: number }>;
  peak?: { rss: Record<Group, number>; processes: Record<Group, number>; other: string[]; heap: NodeJS.MemoryUsage };
  samples: number;
};

const zero = (): Record<Group, number> => ({ node: 0, temporal: 0, postgres: 0, engine: 0, other: 0 });
const mib = (k: number) => Math.round((k / 1024) * 10) / 10;

/** Samples the tree every `intervalMs` while at least one window is open. */
/** Busy CPU ticks of the whole machine, all cores (/proc/stat: everything but idle and iowait). */
function machineBusyTicks(): number {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = f.map(Number);
  // user nice system idle iowait irq softirq steal: steal is the hypervisor's, not this machine's work
  return n[0]! + n[1]! + n[2]! + n[5]! + n[6]!;
}

export class Sampler {
  private windows = new Set<Window>();
  private readonly labels = new Map<number, Group>();
  private timer: NodeJS.Timeout | undefined;

  /** `root`: hookflow's process; `inProcess`: it is this one (its V8 heap is then reported). */
  constructor(
    private readonly root: number,
    private readonly receiverPid: number,
    private readonly inProcess: boolean,
    private readonly intervalMs = 1_000,
  ) {}

  /** hookflow's tree, and the labelled processes (scenario d's engine worker is this process's child). */
  private roots(): number[] {
    return [this.root, ...this.labels.keys()];
  }

  private sample(): void {
    const procs = processTree(this.roots(), [this.receiverPid]);
    const rss = zero();
    const processes = zero();
    const other: string[] = [];
    for (const p of procs) {
      const g = groupOf(p, this.root, this.labels);
      rss[g] += kib(`/proc/${p.pid}/status`, 'VmRSS');
      processes[g] += 1;
      if (g === 'other') other.push(p.comm);
    }
    const total = GROUPS.reduce((s, g) => s + rss[g], 0);
    for (const w of this.windows) {
      w.samples += 1;
      for (const p of procs) {
        // A process first seen inside the window was (nearly always) born in it: all its CPU counts.
        if (!w.baseTicks.has(p.pid)) w.baseTicks.set(p.pid, w.samples === 1 ? p.ticks : 0);
        w.lastTicks.set(p.pid, { group: groupOf(p, this.root, this.labels), ticks: p.ticks });
      }
      const peakTotal = w.peak ? GROUPS.reduce((s, g) => s + w.peak!.rss[g], 0) : -1;
      if (total > peakTotal) w.peak = { rss, processes, other, heap: process.memoryUsage() };
    }
  }

  /** Counts a process (and only it, not its children) under `group`. */
  label(pid: number, group: Group): void {
    this.labels.set(pid, group);
  }

  private receiverTicks(): number {
    return processTree(this.receiverPid).reduce((sum, p) => sum + p.ticks, 0);
  }

  /** The benchmark's own tree, less hookflow's, the receivers' and the labelled ones; nothing when hookflow is this process. */
  private benchTicks(): number {
    if (this.inProcess) return 0;
    return processTree(process.pid, [this.receiverPid, ...this.roots()]).reduce((sum, p) => sum + p.ticks, 0);
  }

  open(): { close(): Usage } {
    const w: Window = { startedAt: performance.now(), machineTicks: machineBusyTicks(), receiverTicks: this.receiverTicks(), benchTicks: this.benchTicks(), baseTicks: new Map(), lastTicks: new Map(), samples: 0 };
    this.windows.add(w);
    this.sample();
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
    return {
      close: () => {
        this.sample();
        const endPss = processTree(this.roots(), [this.receiverPid]).reduce((sum, p) => sum + kib(`/proc/${p.pid}/smaps_rollup`, 'Pss'), 0);
        this.windows.delete(w);
        if (this.windows.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
        const wallSeconds = (performance.now() - w.startedAt) / 1000;
        const cpuSeconds = zero();
        for (const [pid, last] of w.lastTicks) cpuSeconds[last.group] += (last.ticks - (w.baseTicks.get(pid) ?? 0)) / CLK_TCK;
        const peak = w.peak!;
        const stackSeconds = GROUPS.reduce((sum, g) => sum + cpuSeconds[g], 0);
        const receiverSeconds = (this.receiverTicks() - w.receiverTicks) / CLK_TCK;
        const benchSeconds = (this.benchTicks() - w.benchTicks) / CLK_TCK;
        const machineSeconds = (machineBusyTicks() - w.machineTicks) / CLK_TCK;
        const peakRss = Object.fromEntries(GROUPS.map((g) => [g, mib(peak.rss[g])])) as Record<Group, number>;
        return {
          peakRssMiB: { ...peakRss, total: mib(GROUPS.reduce((s, g) => s + peak.rss[g], 0)) },
          endPssTotalMiB: mib(endPss),
          nodeMainHeapMiB: this.inProcess ? { heapTotal: mib(peak.heap.heapTotal / 1024), heapUsed: mib(peak.heap.heapUsed / 1024), external: mib(peak.heap.external / 1024) } : undefined,
          processes: peak.processes,
          otherNames: [...new Set(peak.other)],
          cpuSeconds: Object.fromEntries(GROUPS.map((g) => [g, Math.round(cpuSeconds[g] * 100) / 100])) as Record<Group, number>,
          cpuPercent: Object.fromEntries(GROUPS.map((g) => [g, Math.round((cpuSeconds[g] / wallSeconds) * 100)])) as Record<Group, number>,
          receiverCpuPercent: Math.round((receiverSeconds / wallSeconds) * 100),
          receiverCpuSeconds: Math.round(receiverSeconds * 100) / 100,
          benchCpuPercent: Math.round((benchSeconds / wallSeconds) * 100),
          restOfMachineCpuPercent: Math.max(0, Math.round(((machineSeconds - stackSeconds - receiverSeconds - benchSeconds) / wallSeconds) * 100)),
          samples: w.samples,
          wallSeconds: Math.round(wallSeconds * 10) / 10,
        };
      },
    };
  }
}
