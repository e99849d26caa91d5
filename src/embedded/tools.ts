import { execFile } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config';
import type { Logger } from '../observability/logger';

/**
 * Finds the Temporal CLI and tctl the way the README says: an explicit path in the environment, then
 * PATH, then a cache outside the repo, then a one-time `go install` into that cache.
 */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

/** `built`: the name `go install` gives the binary, when it is not the tool's name. */
export const TOOLS: Record<'temporal' | 'tctl' | 'temporal-server' | 'temporal-sql-tool', { env: string; module: string; built?: string }> = {
  temporal: { env: 'TEMPORAL_CLI_PATH', module: 'github.com/temporalio/cli/cmd/temporal@v1.5.1' },
  tctl: { env: 'TCTL_PATH', module: 'github.com/temporalio/tctl/cmd/tctl@v1.18.4' },
  // TEMPORAL_ENGINE=server (src/embedded/temporal-server.ts): the server and its schema tool, same release as the CLI's.
  'temporal-server': { env: 'TEMPORAL_SERVER_PATH', module: `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`, built: 'server' },
  'temporal-sql-tool': { env: 'TEMPORAL_SQL_TOOL_PATH', module: `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`, built: 'sql' },
};

export type ToolName = keyof typeof TOOLS;

/** Where to look (src/config.ts: TEMPORAL_CLI_PATH, TCTL_PATH, HOOKFLOW_TOOLS_DIR, XDG_CACHE_HOME, PATH). */
export type ToolsConfig = Config['tools'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The tool's path without building anything, or undefined. */
export function findTool(name: ToolName, tools: ToolsConfig): string | undefined {
  const explicit = tools.paths[name];
  if (explicit) {
    if (!executable(explicit)) throw new Error(`${TOOLS[name].env}=${explicit} is not an executable file`);
    return explicit;
  }
  const cached = join(tools.cacheDir, name);
  return onPath(name, tools.searchPath) ?? (executable(cached) ? cached : undefined);
}

/** The tool's path, building it with Go into the cache when it is nowhere yet; undefined when Go is missing too. */
export async function obtainTool(name: ToolName, tools: ToolsConfig, log: Logger): Promise<string | undefined> {
  return (await obtainToolTimed(name, tools, log))?.path;
}

/** obtainTool, saying also whether it was built now and how long that took (`hookflow tools`). */
export async function obtainToolTimed(name: ToolName, tools: ToolsConfig, log: Logger): Promise<{ path: string; builtMs?: number } | undefined> {
  const found = findTool(name, tools);
  if (found) return { path: found };
  const go = findGo(tools);
  if (!go) return undefined;
  const started = Date.now();
  const dir = tools.cacheDir;
  mkdirSync(dir, { recursive: true });
  const { module, built } = TOOLS[name];
  log.info({ module, into: dir }, `building ${name} with Go, once (this takes a few minutes)`);
  // A binary named after its package (`server`, `sql`) is built aside and moved in under the tool's name.
  const gobin = built ? mkdtempSync(join(dir, `.${name}-`)) : dir;
  try {
    await promisify(execFile)(go, ['install', module], {
      // Go's own settings (HOME, GOPATH, GOPROXY, …) pass through to it; only where the binary goes is ours.
      // eslint-disable-next-line no-restricted-properties -- handed to the child, not read
      env: { ...process.env, GOBIN: gobin, GOFLAGS: '-mod=mod' },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (built) renameSync(join(gobin, built), join(dir, name));
  } finally {
    if (built) rmSync(gobin, { recursive: true, force: true });
  }
  return { path: join(dir, name), builtMs: Date.now() - started };
}

export function findGo(tools: ToolsConfig): string | undefined {
  return onPath('go', tools.searchPath) ?? (executable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}
