/**
 * Summarises V8 CPU profiles (`node --cpu-prof …` writes one .cpuprofile per thread): self time by
 * function and by package, busiest first. `--window FROM-TO` keeps the samples between FROM and TO
 * seconds after the process started (the bench's progress lines give a scenario's seconds), so start-up
 * and shutdown do not count. Usage: node --import tsx bench/profile-summary.ts FILE… [--top N] [--window 12-30]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? { value: args[i + 1]!, at: i } : undefined;
};
const topFlag = flag('--top');
const windowFlag = flag('--window');
const top = topFlag ? Number(topFlag.value) : 25;
const [fromS, toS] = windowFlag ? windowFlag.value.split('-').map(Number) : [0, Infinity];
const skip = new Set([topFlag?.at, topFlag && topFlag.at + 1, windowFlag?.at, windowFlag && windowFlag.at + 1]);
const files = args.filter((_, i) => !skip.has(i));
if (files.length === 0) {
  process.stderr.write('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile… [--top N]\n');
  process.exit(2);
}

/** The package a script belongs to: node_modules/<pkg>, node:internal, or this repository's folder. */
function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const repo = /\/(src|activities|workflows|bench|test)\//.exec(url);
  return repo ? `hookflow ${repo[1]}/` : url;
}

const ms = (us: number) => (us / 1000).toFixed(0);

/** µs since the epoch at which the process started, from the profile file name (CPU.YYYYMMDD.HHMMSS.PID…) or the first profile. */
let processStart: number | undefined;

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // The main thread's profile starts with the process: its start is the origin for every thread's window.
  processStart ??= p.startTime;
  let t = p.startTime;
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    const s = (t - processStart!) / 1e6;
    if (s < fromS! || s > toS!) return;
    total += dt;
    self.set(id, (self.get(id) ?? 0) + dt);
  });
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    const key = url ? `${name}  ${url.replace(/^file:\/\/.*?\/(node_modules|src|activities|workflows|bench)\//, '$1/')}:${lineNumber + 1}` : name;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(url, name);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const idle = (fns.get('(idle)') ?? 0);
  const span = windowFlag ? ` between ${fromS} s and ${toS} s` : '';
  process.stdout.write(`\n${basename(file)}${span}: ${ms(total)} ms profiled, ${ms(total - idle)} ms busy (${(((total - idle) / total) * 100).toFixed(0)}%)\n`);
  process.stdout.write('  self time by package:\n');
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15)) {
    process.stdout.write(`    ${ms(us).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${a}\n`);
  }
  process.stdout.write(`  top ${top} functions by self time:\n`);
  for (const [k, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    process.stdout.write(`    ${ms(us).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
  }
}
