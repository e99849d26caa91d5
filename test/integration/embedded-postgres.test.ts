import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/embedded/postgres';
import { createLogger } from '../../src/observability/logger';

/**
 * The embedded Postgres of `hookflow start` on what a crash or a root shell leaves: backends that
 * outlive their postmaster, and a data dir made by `mktemp -d`.
 */
const dirs: string[] = [];
const running: EmbeddedDatabase[] = [];
afterAll(async () => {
  for (const db of running) await db.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(mode?: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-pg-'));
  if (mode !== undefined) chmodSync(dir, mode);
  dirs.push(dir);
  return dir;
}

function capture() {
  const lines: { msg: string }[] = [];
  return { log: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) }), lines };
}

/** Running, as opposed to gone or a zombie waiting for its new parent to reap it. */
function isRunning(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
}

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one;
  } finally {
    await client.end();
  }
}

describe('a Postgres killed while its backends still run', () => {
  it('starts again on the same data dir once the orphaned backends are gone', async () => {
    const dir = join(dataDir(0o755), 'postgres');
    const { log, lines } = capture();
    const first = await startEmbeddedPostgres(dir, log);
    const client = new pg.Client({ connectionString: first.url });
    client.on('error', () => undefined);
    await client.connect();
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    // Held, the backend cannot notice its postmaster's death: it keeps the old shared memory attached,
    // as a busy backend of a SIGKILLed tree does for a moment.
    process.kill(backend, 'SIGSTOP');
    const postmaster = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    await first.exited;

    const second = await startEmbeddedPostgres(dir, log, first.port);
    running.push(second);
    expect(await selectOne(second.url)).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['waiting for the processes of a previous Postgres on this data dir to exit', 'stopping backends left by a Postgres that died']),
    );
    expect(isRunning(backend)).toBe(false);
  }, 120_000);
});

describe.runIf(process.getuid?.() === 0)('run as root (Postgres runs as the postgres OS user)', () => {
  it('opens a data dir of mode 0700, as mktemp -d makes it, to the postgres user and starts', async () => {
    const dir = dataDir();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const { log } = capture();
    const db = await startEmbeddedPostgres(join(dir, 'postgres'), log);
    running.push(db);
    expect(await selectOne(db.url)).toBe(1);
    // Search only: other users still cannot list the data dir or read the files in it.
    expect(statSync(dir).mode & 0o777).toBe(0o710);
  }, 120_000);

  it('stops with a sentence that says what to change when a directory above the data dir is closed to it', async () => {
    const closed = dataDir();
    const { log } = capture();
    await expect(startEmbeddedPostgres(join(closed, 'data', 'postgres'), log)).rejects.toThrow(
      `Embedded Postgres runs as the OS user "postgres" (hookflow runs as root), and it cannot enter ${closed} (mode 0700). Let it through (chmod o+x ${closed}), or set HOOKFLOW_DATA_DIR to a directory outside ${closed}, or set DATABASE_URL to a Postgres of your own.`,
    );
  });
});
