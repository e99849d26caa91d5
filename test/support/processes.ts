import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { inject } from 'vitest';
import { freePort } from '../../src/embedded/postgres';
import { waitFor } from './receiver';

/** A hookflow process started the way a user starts it (`npm start`, `npm run api`, …), in its own process group. */
export type HookflowProcess = { child: ChildProcess; output: () => string; exited: Promise<number | null>; apiUrl?: string };

export async function startNpm(script: string, env: Record<string, string>, readyPattern: RegExp): Promise<HookflowProcess> {
  const args = script === 'start' ? ['start'] : ['run', script];
  const child = spawn('npm', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await waitFor(() => readyPattern.exec(output) ?? (child.exitCode !== null ? null : undefined), `npm ${args.join(' ')} to be ready`, 150_000);
  if (!ready) throw new Error(`npm ${args.join(' ')} exited:\n${output}`);
  return { child, output: () => output, exited, apiUrl: /"api":"(http:\/\/[^"]+)"/.exec(output)?.[1] ?? /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1] };
}

/**
 * The environment of an `npm start` on its own data dir, as the crash tests start it: the suite's Temporal CLI,
 * free ports, the key `crash-key`, and retries a second or two apart.
 */
export async function crashEnv(dataDir: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    HOOKFLOW_DATA_DIR: dataDir, PORT: '0', API_KEYS: 'crash-key', ALLOW_PRIVATE_NETWORK: 'true', LOG_LEVEL: 'info',
    TEMPORAL_CLI_PATH: inject('temporalBinary'), TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_UI_PORT: String(await freePort()),
    RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '2s', ...extra,
  };
}

/** SIGKILL to the whole process group: npm, node, and the Temporal and Postgres servers it started. */
export async function killTree(p: HookflowProcess): Promise<void> {
  try {
    process.kill(-p.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
  await p.exited;
}

/**
 * Processes still running on a data dir: anything whose command line names it (the Temporal dev
 * server's database file) or whose working directory is under it (Postgres and all its backends).
 * Linux only (/proc); elsewhere the list is empty.
 */
export function processesOn(dataDir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const pid of entries) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // a zombie, or exited meanwhile
      }
      if (cmdline.includes(dataDir) || cwd.startsWith(dataDir)) found.push(`${pid} ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
