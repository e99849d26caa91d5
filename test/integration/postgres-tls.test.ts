import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { ConfigError, loadConfig } from '../../src/config';
import { createPool, migrate } from '../../src/db/pool';
import { freePort } from '../../src/embedded/postgres';
import { findGo, findTool } from '../../src/embedded/tools';
import { createLogger } from '../../src/observability/logger';
import { startService, type Service } from '../../src/service';
import { retentionScheduleId } from '../../src/temporal/retention-schedule';
import { makeCa, type TestCa } from '../support/certificates';
import { Receiver, waitFor } from '../support/receiver';
import { apiRequest, buildEndpoint, buildEvent, uniqueTenant } from '../support/stack';
import { startTlsPostgres, type TlsPostgres } from '../support/tls-postgres';

/**
 * DATABASE_URL with sslmode=verify-full and a CA, against a Postgres started with `ssl = on`, a certificate
 * from a CA made here, and only `hostssl` entries for hookflow's databases: every part that connects — the
 * migrations, the API and the worker (one pool), the retention job, and TEMPORAL_ENGINE=server's Temporal
 * server and temporal-sql-tool — does so over verified TLS, or not at all. A CA that does not vouch for the
 * server, or a host name its certificate does not hold, stops start-up with a sentence.
 */
const { tools } = loadConfig();
const serverBuilt = Boolean(findTool('temporal-server', tools) && findTool('temporal-sql-tool', tools));
if (!serverBuilt && findGo(tools)) throw new Error('Go is installed but the Temporal server is not built: global-setup.ts builds it; run `npm run tools`');

const API_KEY = 'postgres-tls-key-0123456789';
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'error');

describe('Postgres over verified TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-postgres-tls-'));
  chmodSync(dir, 0o755);
  let ca: TestCa;
  let otherCa: TestCa;
  let postgres: TlsPostgres;
  let receiver: Receiver;
  let service: Service | undefined;
  const url = (host: string, query: string) => `postgres://postgres:postgres@${host}:${postgres.port}/hookflow${query}`;

  beforeAll(async () => {
    ca = makeCa(join(dir, 'ca'), 'hookflow-test-ca');
    otherCa = makeCa(join(dir, 'other-ca'), 'some-other-ca');
    // The certificate names localhost only, so 127.0.0.1 is a name it does not hold.
    postgres = await startTlsPostgres(join(dir, 'postgres'), ca.issue('postgres-server', { dns: ['localhost'] }), log);
    receiver = await Receiver.start();
  }, 180_000);

  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes hookflow only over TLS: a plain connection is refused', async () => {
    const config = loadConfig({ DATABASE_URL: url('localhost', '?sslmode=disable') });
    await expect(migrate(config.databaseUrl!, log)).rejects.toThrow(/no pg_hba.conf entry .* no encryption/);
  });

  it('refuses a server whose certificate the CA does not vouch for, or that does not hold the host name, with a sentence', async () => {
    const start = (databaseUrl: string, env: Record<string, string> = {}) => {
      const config = loadConfig({ PORT: '0', API_KEYS: API_KEY, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'error', ...env });
      return startService(config, { roles: ['api'], embedded: false, log }).then(
        async (started) => {
          await started.stop();
          return undefined;
        },
        (err: unknown) => err,
      );
    };
    const wrongCa = await start(url('localhost', `?sslmode=verify-full&sslrootcert=${otherCa.cert}`));
    expect(wrongCa).toBeInstanceOf(ConfigError);
    expect((wrongCa as Error).message).toBe(`Postgres at localhost:${postgres.port} presented a certificate that the CA in sslrootcert (${otherCa.cert}) does not vouch for (unable to verify the first certificate)`);
    const wrongCaFromEnvironment = await start(url('localhost', '?sslmode=verify-full'), { PGSSLROOTCERT: otherCa.cert });
    expect((wrongCaFromEnvironment as Error).message).toBe((wrongCa as Error).message);
    const wrongName = await start(url('127.0.0.1', `?sslmode=verify-full&sslrootcert=${ca.cert}`));
    expect(wrongName).toBeInstanceOf(ConfigError);
    expect((wrongName as Error).message).toBe(`Postgres at 127.0.0.1:${postgres.port} presented a certificate for DNS:localhost, not for "127.0.0.1": DATABASE_URL must name the host as its certificate does`);
    // The system's CAs do not know this test's CA either.
    const systemCas = await start(url('localhost', '?sslmode=verify-full&sslrootcert=system'));
    expect((systemCas as Error).message).toMatch(/^Postgres at localhost:\d+ presented a certificate that none of the CAs Node trusts vouches for: set sslrootcert in DATABASE_URL, or PGSSLROOTCERT/);
  });

  it('PGSSLMODE and PGSSLROOTCERT stand in for the URL parameters, as for libpq', async () => {
    const config = loadConfig({ DATABASE_URL: url('localhost', ''), PGSSLMODE: 'verify-full', PGSSLROOTCERT: ca.cert });
    await migrate(config.databaseUrl!, log);
    const pool = createPool(config.databaseUrl!, 1);
    try {
      const { rows } = await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await pool.end();
    }
  });

  it.skipIf(!serverBuilt)('API, worker, migrations, the retention job and TEMPORAL_ENGINE=server all reach it with sslmode=verify-full', async () => {
    const config = loadConfig({
      PORT: '0',
      API_KEYS: API_KEY,
      DATABASE_URL: url('localhost', `?sslmode=verify-full&sslrootcert=${ca.cert}`),
      TEMPORAL_ENGINE: 'server',
      TEMPORAL_DEV_PORT: String(await freePort()),
      HOOKFLOW_DATA_DIR: join(dir, 'hookflow'),
      ALLOW_PRIVATE_NETWORK: 'true',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    service = await startService(config, { roles: ['api', 'worker'], embedded: true, log, workflowBundle: { codePath: inject('workflowBundlePath') } });
    const request = apiRequest(service.apiUrl!, API_KEY);
    const tenantId = uniqueTenant();
    expect((await request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url('/tls-postgres') }))).status).toBe(201);
    const event = await request('POST', '/events', buildEvent({ tenantId }));
    expect(event.status).toBe(202);
    await waitFor(() => receiver.received.find((r) => r.path === '/tls-postgres'), 'the delivery with everything on TLS Postgres', 60_000);
    // The row is written after the receiver answered.
    await waitFor(async () => (await request('GET', `/events/${String(event.body.id)}`)).body.deliveries[0]?.status === 'succeeded', 'the delivery recorded as succeeded');

    // The retention job: a run of its Schedule, whose activity purges through the worker's pool.
    const connection = await Connection.connect({ address: service.temporalAddress });
    try {
      const temporal = new Client({ connection });
      const schedule = temporal.schedule.getHandle(retentionScheduleId(config.temporal.taskQueue));
      await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      const action = await waitFor(async () => (await schedule.describe()).info.recentActions[0], 'the triggered retention run');
      await expect(temporal.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId).result()).resolves.toMatchObject({ messages: 0 });
    } finally {
      await connection.close();
    }

    // Everyone connected to hookflow's databases — hookflow's pool and the Temporal server's — did so over TLS.
    const pool = createPool(config.databaseUrl!, 1);
    try {
      const { rows } = await pool.query<{ datname: string; ssl: boolean }>(
        "SELECT a.datname, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname LIKE 'hookflow%' AND a.backend_type = 'client backend'",
      );
      expect(new Set(rows.map((r) => r.datname))).toEqual(new Set(['hookflow', 'hookflow_temporal', 'hookflow_temporal_visibility']));
      expect(rows.filter((r) => !r.ssl)).toEqual([]);
    } finally {
      await pool.end();
    }
  });
});
