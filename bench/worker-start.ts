/**
 * A worker's start-up cost: time from spawning the command to its "worker running" log line, and the
 * process's RSS (VmRSS) and peak RSS (VmHWM) at that line, from /proc (Linux). Each run is stopped with
 * SIGTERM before the next starts.
 *
 *   DATABASE_URL=… TEMPORAL_ADDRESS=… npx tsx bench/worker-start.ts --runs 3 [--cwd DIR] -- node dist/src/cli/main.js worker
 *
 * The command must be node itself (not npm), so the spawned pid is the process measured.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, cwd: { type: 'string', default: process.cwd() } },
  allowPositionals: true,
});
const [command, ...args] = positionals;
if (!command) throw new Error('usage: worker-start.ts [--runs N] [--cwd DIR] -- COMMAND ARGS…');

type Run = { startMs: number; rssMiB: number; peakMiB: number };

function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

function once(): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // A task queue of its own per run: no run sees another's pollers or schedules.
    const env = { ...process.env, TEMPORAL_TASK_QUEUE: `worker-start-${randomBytes(4).toString('hex')}`, LOG_LEVEL: 'info' };
    const child = spawn(command!, args, { cwd: values.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let result: Run | undefined;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (result || !output.includes('"msg":"worker running"')) return;
      result = { startMs: performance.now() - started, ...memory(child.pid!) };
      child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`exited with ${code} before "worker running":\n${output}`))));
  });
}

const runs: Run[] = [];
for (let i = 0; i < Number(values.runs); i++) {
  const run = await once();
  runs.push(run);
  process.stdout.write(`run ${i + 1}: start ${(run.startMs / 1000).toFixed(2)} s, RSS ${run.rssMiB.toFixed(0)} MiB, peak RSS ${run.peakMiB.toFixed(0)} MiB\n`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  `median of ${runs.length}: start ${(median(runs.map((r) => r.startMs)) / 1000).toFixed(2)} s, RSS ${median(runs.map((r) => r.rssMiB)).toFixed(0)} MiB, peak RSS ${median(runs.map((r) => r.peakMiB)).toFixed(0)} MiB\n`,
);
