import pg from 'pg';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { ConfigError } from '../config';
import type { Logger } from '../observability/logger';
import { explainPostgresRefusal, postgresClientConfig } from './connection';

export type Db = pg.Pool;

/** A pool on DATABASE_URL, with the TLS its sslmode and sslrootcert ask for (src/db/connection.ts). */
export function createPool(connectionString: string, max = 20): Db {
  const pool = new pg.Pool({ ...postgresClientConfig(connectionString), max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, types: { getTypeParser } });
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

/**
 * Applies pending migrations; safe to run from several processes at once (node-pg-migrate takes a lock).
 * The first thing every role does with Postgres, so a server whose certificate is refused stops start-up
 * here, with a sentence saying which setting to change.
 */
export async function migrate(databaseUrl: string, log: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl: postgresClientConfig(databaseUrl),
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'hookflow_migrations',
    singleTransaction: true,
    // api and worker may start together: the second waits for the first's migration instead of failing.
    advisoryLockMode: 'wait',
    log: () => undefined,
  }).catch((err: unknown) => {
    const refusal = explainPostgresRefusal(err, databaseUrl);
    throw refusal ? new ConfigError(refusal, { cause: err }) : err;
  });
  if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, 'database migrated');
}
