import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger';

/**
 * Finds the Temporal CLI and tctl the way the README says: an explicit path in the environment, then
 * PATH, then a cache outside the repo, then a one-time `go install` into that cache.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

/** `built`: the name `go install` gives the binary, when it is not the tool's name. */
export const TOOLS: Record<'temporal' | 'tctl' | 'temporal-server' | 'temporal-sql-tool', { env: string; module: string; built?: string }> = {
  temporal: { env: 'TEMPORAL_CLI_PATH', module: 'github.com/temporalio/cli/cmd/temporal@v1.5.1' },
  tctl: { env: 'TCTL_PATH', module: 'github.com/temporalio/tctl/cmd/tctl@v1.18.4' },
  // TEMPORAL_ENGINE=server (src/temporal/server.ts): the server and its schema tool, same release as the CLI's.
  'temporal-server': { env: 'TEMPORAL_SERVER_PATH', module: `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`, built: 'server' },
  'temporal-sql-tool': { env: 'TEMPORAL_SQL_TOOL_PATH', module: `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`, built: 'sql' },
};

export type ToolName = keyof typeof TOOLS;

export function toolsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HOOKFLOW_TOOLS_DIR) return env.HOOKFLOW_TOOLS_DIR;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'hookflow', 'bin');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The tool's path without building anything, or undefined. */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env[TOOLS[name].env];
  if (explicit) {
    if (!executable(explicit)) throw new Error(`${TOOLS[name].env}=${explicit} is not an executable file`);
    return explicit;
  }
  const cached = join(toolsCacheDir(env), name);
  return onPath(name, env) ?? (executable(cached) ? cached : undefined);
}

/** The tool's path, building it with Go into the cache when it is nowhere yet; undefined when Go is missing too. */
export async function obtainTool(name: ToolName, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const found = findTool(name, env);
  if (found) return found;
  const go = findGo(env);
  if (!go) return undefined;
  const dir = toolsCacheDir(env);
  mkdirSync(dir, { recursive: true });
  const { module, built } = TOOLS[name];
  log.info({ module, into: dir }, `building ${name} with Go, once (this takes a few minutes)`);
  // A binary named after its package (`server`, `sql`) is built aside and moved in under the tool's name.
  const gobin = built ? mkdtempSync(join(dir, `.${name}-`)) : dir;
  try {
    await promisify(execFile)(go, ['install', module], {
      env: { ...env, GOBIN: gobin, GOFLAGS: '-mod=mod' },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (built) renameSync(join(gobin, built), join(dir, name));
  } finally {
    if (built) rmSync(gobin, { recursive: true, force: true });
  }
  return join(dir, name);
}

export function findGo(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return onPath('go', env) ?? (executable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}
