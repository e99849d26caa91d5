/**
 * Where the Temporal dev server's CPU goes, from `perf script` output of a `perf record -g` on its pid:
 * each sample is put in the first category whose marker appears in its stack, and the script tells
 * whether SQLite code ever runs on two threads at once (it does not if the store has a single writer).
 *
 *   perf record -e cpu-clock -F 499 -g -p <temporal pid> -o temporal.perf -- sleep 15
 *   perf script -i temporal.perf > temporal.txt
 *   node --import tsx bench/perf-summary.ts temporal.txt
 */
import { readFileSync } from 'node:fs';

const CATEGORIES: [string, (stack: string) => boolean][] = [
  ['Go GC (background mark)', (s) => s.includes('gcBgMarkWorker') || s.includes('gcDrain')],
  ['visibility queue (search attributes, start/close records)', (s) => s.includes('visibilityQueueTaskExecutor')],
  ['transfer queue (task dispatch)', (s) => s.includes('transferQueue')],
  ['timer queue', (s) => s.includes('timerQueue')],
  ['matching service', (s) => s.includes('matching.')],
  ['start workflow (history)', (s) => s.includes('StartWorkflowExecution')],
  ['workflow task completed (history)', (s) => s.includes('RespondWorkflowTaskCompleted')],
  ['task started (history)', (s) => s.includes('RecordWorkflowTaskStarted') || s.includes('RecordActivityTaskStarted')],
  ['activity completed (history)', (s) => s.includes('RespondActivityTaskCompleted')],
  ['frontend, other', (s) => s.includes('frontend.')],
  ['gRPC, other', (s) => s.includes('grpc')],
  ['Go scheduler', (s) => s.includes('runtime.schedule') || s.includes('findRunnable') || s.includes('runtime.mcall')],
  ['Go allocation', (s) => s.includes('mallocgc')],
];

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node --import tsx bench/perf-summary.ts PERF_SCRIPT_OUTPUT\n');
  process.exit(2);
}

type Sample = { tid: number; time: number; stack: string };
const samples: Sample[] = [];
for (const block of readFileSync(file, 'utf8').split(/\n\s*\n/)) {
  const [head, ...frames] = block.trim().split('\n');
  // "temporal  1234 [001]  5678.901234:    2004008 cpu-clock:" (the cpu column is optional)
  const m = head && /^\S+\s+(\d+)(?:\s+\[\d+\])?\s+([\d.]+):/.exec(head.trim());
  if (!m) continue;
  samples.push({ tid: Number(m[1]), time: Number(m[2]), stack: frames.join('\n') });
}
if (samples.length === 0) throw new Error(`no samples found in ${file}`);

const counts = new Map<string, number>();
for (const s of samples) {
  const category = CATEGORIES.find(([, test]) => test(s.stack))?.[0] ?? 'other';
  counts.set(category, (counts.get(category) ?? 0) + 1);
}
const sqlite = (s: Sample) => s.stack.includes('modernc.org/sqlite');
const sqliteShare = samples.filter(sqlite).length / samples.length;
const pct = (n: number) => `${((n / samples.length) * 100).toFixed(1).padStart(5)}%`;
process.stdout.write(`${samples.length} samples; SQLite code on the stack in ${(sqliteShare * 100).toFixed(1)}%\n`);
for (const [name, n] of [...counts].sort((a, b) => b[1] - a[1])) process.stdout.write(`${pct(n)}  ${name}\n`);

// Two threads on CPU in the same 2 ms slice (one sampling period at 499 Hz): how often both were in SQLite,
// against how often they would be if SQLite ran on each thread independently.
const slices = new Map<number, Sample[]>();
for (const s of samples) {
  const key = Math.floor(s.time / 0.002);
  slices.set(key, [...(slices.get(key) ?? []), s]);
}
let concurrent = 0;
let bothSqlite = 0;
for (const slice of slices.values()) {
  if (new Set(slice.map((s) => s.tid)).size < 2) continue;
  concurrent += 1;
  if (new Set(slice.filter(sqlite).map((s) => s.tid)).size >= 2) bothSqlite += 1;
}
process.stdout.write(
  `\n${concurrent} 2-ms slices with two or more threads on CPU; SQLite on two threads at once in ${bothSqlite} ` +
    `(${(concurrent * sqliteShare * sqliteShare).toFixed(0)} expected if SQLite ran independently per thread)\n`,
);
