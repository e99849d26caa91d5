import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/lib/paths';
import { WORKFLOW_BUNDLES } from '../../src/temporal/workflow-bundle';

const SOURCES = ['src', 'activities', 'workflows', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
/** @hookflow/client, which the CLI, the portal and the tests import from its dist/. */
const CLIENT_SOURCES = ['packages/client/src', 'packages/client/package.json', 'packages/client/tsconfig.json'];
const CLIENT_BUILT = join(PACKAGE_ROOT, 'packages/client/dist/index.js');

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function builtAt(): number {
  try {
    return Math.min(...Object.values(WORKFLOW_BUNDLES).map((path) => statSync(path).mtimeMs));
  } catch {
    return 0;
  }
}

/**
 * Tests that start hookflow as a user does (`npm start`, the `hookflow` command, `npm run temporal`) run
 * dist/, and the others load its prebuilt workflow bundle: `npm run build:server` runs first whenever a
 * source changed after the last build (the bundles are written last), so no test runs older code; likewise
 * `npm run build:client` for @hookflow/client.
 */
export async function ensureBuilt(log: { warn(message: string): void }): Promise<boolean> {
  const clientChanged = Math.max(...CLIENT_SOURCES.map((path) => newest(join(PACKAGE_ROOT, path))));
  const clientBuiltAt = (() => {
    try {
      return statSync(CLIENT_BUILT).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (clientBuiltAt < clientChanged) {
    await promisify(execFile)('npm', ['run', '--silent', 'build:client'], { cwd: PACKAGE_ROOT, maxBuffer: 16 * 1024 * 1024 });
    log.warn('packages/client/dist/ was older than its sources: rebuilt it with `npm run build:client`');
  }
  const changed = Math.max(...SOURCES.map((path) => newest(join(PACKAGE_ROOT, path))));
  if (builtAt() >= changed) return false;
  await promisify(execFile)('npm', ['run', '--silent', 'build:server'], { cwd: PACKAGE_ROOT, maxBuffer: 16 * 1024 * 1024 });
  log.warn('dist/ was older than the sources: rebuilt it with `npm run build:server`');
  return true;
}

/** package.json's `name` script: the line npm runs through sh, to run the same without npm's own process. */
export function packageScript(name: 'start' | 'api' | 'worker'): string {
  const { scripts } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const line = scripts[name];
  if (!line) throw new Error(`package.json has no "${name}" script`);
  return line;
}
