import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import type { Logger } from '../observability/logger';

/**
 * The live processes whose working directory is `dir` (Linux /proc; undefined where there is none).
 * Zombies and processes of other users (unreadable without root) are not listed.
 */
export function processesWithCwd(dir: string): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === dir) pids.push(Number(entry));
    } catch {
      // exited, a zombie, or not ours to read
    }
  }
  return pids;
}

let hasSetpriv: boolean | undefined;

/**
 * util-linux `setpriv`, which can ask the kernel to kill a process when its parent dies. Asked for by
 * name, so the system finds it on PATH the way it finds any command.
 */
function setpriv(): string | undefined {
  hasSetpriv ??= process.platform === 'linux' && spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
  return hasSetpriv ? 'setpriv' : undefined;
}

/**
 * Spawns a server that hookflow runs for itself (Postgres, Temporal). A terminal's Ctrl-C goes to the
 * whole foreground process group; a server in it would stop at once, under the deliveries in flight.
 * So the server gets a session of its own, and hookflow stops it in order after the worker. With
 * setpriv (Linux) the kernel kills it when hookflow dies (PR_SET_PDEATHSIG), so a SIGKILLed hookflow
 * leaves no server behind; without setpriv the server stays in hookflow's process group.
 */
export function spawnEmbedded(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const wrapper = setpriv();
  if (!wrapper) return spawn(command, args, options);
  return spawn(wrapper, ['--pdeathsig', 'KILL', '--', command, ...args], { ...options, detached: true });
}

/**
 * Stops a server hookflow runs: `signal` asks for its own orderly shutdown; if it has not exited within
 * `graceMs`, `escalation` ends it, and the log says so, since such a stop was not a clean one.
 */
export async function stopServer(
  child: ChildProcess,
  exited: Promise<string>,
  o: { name: string; signal: NodeJS.Signals; escalation: NodeJS.Signals; graceMs: number; log: Logger },
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(o.signal);
  const timer = setTimeout(() => {
    o.log.warn({ pid: child.pid }, `${o.name} did not stop within ${o.graceMs / 1000} s of ${o.signal}: sending ${o.escalation}`);
    child.kill(o.escalation);
  }, o.graceMs);
  await exited;
  clearTimeout(timer);
}
