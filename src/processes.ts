import { readdirSync, readlinkSync } from 'node:fs';

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
