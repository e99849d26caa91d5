import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../observability/logger';

export type Db = pg.Pool;

export function createPool(connectionString: string, max = 20): Db {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, types: { getTypeParser } });
  // An idle client losing its connection (Postgres restarted) must not crash the process;
  // the next query gets a fresh connection.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * `json` columns (messages.payload, endpoints.filter) come back as their text, which Postgres keeps as it
 * was stored: the payload as its producer sent it. pg's default JSON.parse would round long numbers and
 * reorder integer-like keys.
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === (pg.types.builtins.JSON as number) && format !== 'binary' ? (text: string) => text : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/** Applies pending migrations; safe to run from several processes at once (node-pg-migrate takes a lock). */
export async function migrate(databaseUrl: string, log: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'hookflow_migrations',
    singleTransaction: true,
    // api and worker may start together: the second waits for the first's migration instead of failing.
    advisoryLockMode: 'wait',
    log: () => undefined,
  });
  if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'database migrated');
}
