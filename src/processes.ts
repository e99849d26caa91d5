import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, readdirSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

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

let setprivPath: string | null | undefined;

/** util-linux `setpriv`, which can ask the kernel to kill a process when its parent dies. */
function setpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = null;
    if (process.platform === 'linux') {
      // Found the way spawn finds a command, on this process's PATH: not a hookflow setting.
      // eslint-disable-next-line no-restricted-properties
      for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
        try {
          accessSync(join(dir, 'setpriv'), constants.X_OK);
          setprivPath = join(dir, 'setpriv');
          break;
        } catch {
          // not in this directory
        }
      }
    }
  }
  return setprivPath ?? undefined;
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
