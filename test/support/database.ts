import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/embedded/postgres';
import type { Logger } from '../../src/observability/logger';

export type AdminDatabase = { url: string; stop(): Promise<void> };

const LOCAL = 'postgres://postgres@127.0.0.1:5432/test';

/** A Postgres the tests may create databases on: TEST_DATABASE_URL, the local server, else an embedded one. */
export async function adminDatabaseUrl(embeddedDir: string, log: Logger): Promise<AdminDatabase> {
  const candidate = process.env.TEST_DATABASE_URL ?? LOCAL;
  const client = new pg.Client({ connectionString: candidate, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.end();
    return { url: candidate, stop: () => Promise.resolve() };
  } catch (err) {
    if (process.env.TEST_DATABASE_URL) throw err;
    const embedded = await startEmbeddedPostgres(embeddedDir, log);
    return { url: embedded.url, stop: () => embedded.stop() };
  }
}

/** A fresh database for one test file, so files run in parallel without seeing each other's rows. */
export async function createTestDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hookflow_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
