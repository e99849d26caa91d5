/**
 * A worker's start-up cost: time from spawning the command to its "worker running" log line, and the
 * process's CPU time (user + system), RSS (VmRSS) and peak RSS (VmHWM) at that line, from /proc (Linux).
 * CPU time varies less than wall time on a shared machine; it is the process's own (under tsx, esbuild's
 * service process is not in it). Each run is stopped with SIGTERM before the next.
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

type Run = { startMs: number; cpuS: number; rssMiB: number; peakMiB: number };

/** Linux's clock ticks per second (USER_HZ), which /proc/PID/stat counts CPU time in. */
const TICKS_PER_SECOND = 100;

function usage(pid: number): Omit<Run, 'startMs'> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
  const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const stat = line.slice(line.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(stat[11]) + Number(stat[12])) / TICKS_PER_SECOND;
  return { cpuS, rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
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
      result = { startMs: performance.now() - started, ...usage(child.pid!) };
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
  process.stdout.write(`run ${i + 1}: start ${(run.startMs / 1000).toFixed(2)} s, CPU ${run.cpuS.toFixed(2)} s, RSS ${run.rssMiB.toFixed(0)} MiB, peak RSS ${run.peakMiB.toFixed(0)} MiB\n`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(
  `median of ${runs.length}: start ${(median(runs.map((r) => r.startMs)) / 1000).toFixed(2)} s, CPU ${median(runs.map((r) => r.cpuS)).toFixed(2)} s, RSS ${median(runs.map((r) => r.rssMiB)).toFixed(0)} MiB, peak RSS ${median(runs.map((r) => r.peakMiB)).toFixed(0)} MiB\n`,
);
