import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { ConfigError, loadConfig } from '../../src/config';
import { freePort } from '../../src/embedded/postgres';
import { startTemporalServer, temporalDatabases, type TemporalServer } from '../../src/embedded/temporal-server';
import { findGo, findTool } from '../../src/embedded/tools';
import { PACKAGE_ROOT } from '../../src/lib/paths';
import { createLogger } from '../../src/observability/logger';
import { startService, type Service } from '../../src/service';
import { temporalConnectionOptions } from '../../src/temporal/connection';
import { retentionScheduleId } from '../../src/temporal/retention-schedule';
import { messageWorkflowId } from '../../workflows/ids';
import { makeCa, type Issued, type TestCa } from '../support/certificates';
import { createTestDatabase } from '../support/database';
import { Receiver, waitFor } from '../support/receiver';
import { apiRequest, buildEndpoint, buildEvent, uniqueTenant } from '../support/stack';

/**
 * TEMPORAL_TLS_*: the Temporal server hookflow builds (TEMPORAL_ENGINE=server), its frontend on TLS with
 * client certificates required, from a CA made here. hookflow with the right certificate delivers through
 * it and `npm run temporal` lists its workflows; with no certificate, a CA that does not vouch for the
 * server, or a name the certificate does not hold, it refuses to start with a sentence naming the setting.
 */
const { tools } = loadConfig();
const built = Boolean(findTool('temporal-server', tools) && findTool('temporal-sql-tool', tools));
if (!built) {
  if (findGo(tools)) throw new Error('Go is installed but the Temporal server is not built: global-setup.ts builds it; run `npm run tools`');
  console.warn('temporal-tls.test.ts skipped: no Go to build the Temporal server, and no TEMPORAL_SERVER_PATH / TEMPORAL_SQL_TOOL_PATH');
}

const NAMESPACE = 'hookflow-tls';
const API_KEY = 'temporal-tls-key-0123456789';

describe.skipIf(!built)('Temporal over TLS with client certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-temporal-tls-'));
  chmodSync(dir, 0o755);
  let ca: TestCa;
  let otherCa: TestCa;
  let client: Issued;
  let database: { url: string; drop(): Promise<void> };
  let server: TemporalServer;
  let receiver: Receiver;
  const services: Service[] = [];

  /** hookflow's settings for this server: `env` adds or replaces TLS ones (an empty value unsets one). */
  const settings = (env: Record<string, string> = {}) =>
    Object.fromEntries(
      Object.entries({
        PORT: '0',
        API_KEYS: API_KEY,
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: NAMESPACE,
        TEMPORAL_TLS_CA: ca.cert,
        TEMPORAL_TLS_CERT: client.cert,
        TEMPORAL_TLS_KEY: client.key,
        ALLOW_PRIVATE_NETWORK: 'true',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
        ...env,
      }).filter(([, value]) => value !== ''),
    );
  const start = async (env: Record<string, string> = {}, roles: ('api' | 'worker')[] = ['api', 'worker']) => {
    const config = loadConfig(settings(env));
    const service = await startService(config, { roles, embedded: false, log: createLogger(config.logLevel), workflowBundle: { codePath: inject('workflowBundlePath') } });
    services.push(service);
    return { service, config };
  };

  beforeAll(async () => {
    ca = makeCa(join(dir, 'ca'), 'hookflow-test-ca');
    otherCa = makeCa(join(dir, 'other-ca'), 'some-other-ca');
    const serverCert = ca.issue('temporal-frontend', { dns: ['localhost'], ips: ['127.0.0.1'] });
    const worker = ca.issue('temporal-system-worker');
    client = ca.issue('hookflow-client');
    database = await createTestDatabase(inject('adminDatabaseUrl'));
    receiver = await Receiver.start();
    server = await startTemporalServer({
      binary: findTool('temporal-server', tools)!,
      sqlTool: findTool('temporal-sql-tool', tools)!,
      dataDir: join(dir, 'temporal-server'),
      postgresUrl: database.url,
      tools,
      port: await freePort(),
      namespace: NAMESPACE,
      historyShards: 1,
      metricsPort: 0,
      dynamicConfig: [],
      log: createLogger('error'),
      tls: { certFile: serverCert.cert, keyFile: serverCert.key, clientCaFile: ca.cert, caFile: ca.cert, serverName: 'localhost', workerCertFile: worker.cert, workerKeyFile: worker.key },
    });
  }, 600_000);

  afterAll(async () => {
    for (const service of services) await service.stop();
    await server?.stop();
    await receiver?.close();
    if (database) {
      const names = temporalDatabases(database.url);
      const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
      await admin.connect();
      for (const name of [names.main, names.visibility]) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await database.drop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  let messageId: string;

  it('hookflow with the right certificate delivers through it: API, worker, retention Schedule, /readyz', async () => {
    const { service, config } = await start();
    const request = apiRequest(service.apiUrl!, API_KEY);
    const tenantId = uniqueTenant();
    expect((await request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url('/over-tls') }))).status).toBe(201);
    const event = await request('POST', '/events', buildEvent({ tenantId }));
    expect(event.status).toBe(202);
    messageId = String(event.body.id);

    const received = await waitFor(() => receiver.received.find((r) => r.path === '/over-tls'), 'the delivery through the TLS-only Temporal', 60_000);
    expect(JSON.parse(received.body)).toMatchObject({ id: messageId, tenantId, type: 'sync.completed' });
    const ready = await request('GET', '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } } });

    // What the worker made over TLS, seen by an operator's client with the same settings.
    const connection = await Connection.connect(temporalConnectionOptions(config.temporal, server.address));
    try {
      const temporal = new Client({ connection, namespace: NAMESPACE });
      expect((await temporal.workflow.getHandle(messageWorkflowId(messageId)).describe()).status.name).toBe('COMPLETED');
      expect((await temporal.schedule.getHandle(retentionScheduleId(config.temporal.taskQueue)).describe()).action).toMatchObject({ workflowType: 'retentionWorkflow' });
    } finally {
      await connection.close();
    }
  });

  it('`npm run temporal -- workflow list` works against it with the same settings; without TLS it gets nothing', async () => {
    const run = (env: Record<string, string>) =>
      promisify(execFile)('npm', ['run', '--silent', 'temporal', '--', 'workflow', 'list', '--query', `MessageId = "${messageId}"`], {
        cwd: PACKAGE_ROOT,
        env: { ...process.env, ...env },
        timeout: 60_000,
      });
    const { stdout } = await run(settings());
    expect(stdout).toContain(messageWorkflowId(messageId));
    const plain = await run({ TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: NAMESPACE, TEMPORAL_TLS: 'false' }).catch((err: { code?: number }) => err);
    expect(plain).toMatchObject({ code: expect.any(Number) });
  });

  it('refuses to start without a client certificate, with a CA that does not vouch for the server, or with a name it does not hold', async () => {
    const refusal = (env: Record<string, string>) => start(env).then(() => undefined, (err: unknown) => err);
    const noCertificate = await refusal({ TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '' });
    expect(noCertificate).toBeInstanceOf(ConfigError);
    expect((noCertificate as Error).message).toBe(
      `Temporal at ${server.address} requires a client certificate: set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY to a client certificate and key signed by a CA the server trusts (TLS alert: certificate required)`,
    );
    const wrongCa = await refusal({ TEMPORAL_TLS_CA: otherCa.cert });
    expect(wrongCa).toBeInstanceOf(ConfigError);
    expect((wrongCa as Error).message).toBe(`Temporal at ${server.address} presented a certificate that TEMPORAL_TLS_CA (${otherCa.cert}) does not vouch for (unable to verify the first certificate)`);
    const wrongName = await refusal({ TEMPORAL_TLS_SERVER_NAME: 'temporal.example.com' });
    expect(wrongName).toBeInstanceOf(ConfigError);
    expect((wrongName as Error).message).toBe(
      `Temporal at ${server.address} presented a certificate for DNS:localhost, IP Address:127.0.0.1, not for "temporal.example.com": TEMPORAL_TLS_SERVER_NAME must be a name the certificate holds`,
    );
    const strangerCertificate = otherCa.issue('stranger');
    const stranger = await refusal({ TEMPORAL_TLS_CERT: strangerCertificate.cert, TEMPORAL_TLS_KEY: strangerCertificate.key });
    expect((stranger as Error).message).toMatch(new RegExp(`^Temporal at ${server.address} refused the client certificate in TEMPORAL_TLS_CERT \\(${strangerCertificate.cert}\\)`));
  });

  it('the worker process started as `hookflow worker` says the sentence and exits 2', async () => {
    const result = await promisify(execFile)('node', [join(PACKAGE_ROOT, 'bin', 'hookflow.js'), 'worker'], {
      env: { ...process.env, ...settings({ TEMPORAL_TLS_CERT: '', TEMPORAL_TLS_KEY: '', LOG_LEVEL: 'error' }) },
      timeout: 60_000,
    }).catch((err: { code?: number; stderr?: string }) => err);
    expect(result).toMatchObject({ code: 2 });
    expect((result as { stderr: string }).stderr).toContain(`Temporal at ${server.address} requires a client certificate: set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY`);
  });

  it('/readyz says which certificate was refused when Temporal comes up presenting one the CA does not vouch for', async () => {
    // The API starts while nothing answers there (it waits for Temporal), then a server with another CA's certificate does.
    const port = await freePort();
    const { service } = await start({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, ['api']);
    const impostor = otherCa.issue('impostor', { dns: ['localhost'], ips: ['127.0.0.1'] });
    const tlsServer: Server = createServer({ cert: readFileSync(impostor.cert), key: readFileSync(impostor.key), ALPNProtocols: ['h2'] }, (socket) => socket.end());
    await new Promise<void>((resolve) => tlsServer.listen(port, '127.0.0.1', resolve));
    try {
      // The reasons are an operator's: without the key, /readyz answers its status only.
      expect(await (await fetch(`${service.apiUrl}/readyz`)).json()).toEqual({ status: 'unavailable' });
      const res = await fetch(`${service.apiUrl}/readyz`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { checks: Record<string, string> };
      expect(body.checks.temporal).toBe(
        `unavailable: Temporal at 127.0.0.1:${port} presented a certificate that TEMPORAL_TLS_CA (${ca.cert}) does not vouch for (unable to verify the first certificate)`,
      );
      expect(body.checks.postgres).toBe('ok');
    } finally {
      await new Promise((resolve) => tlsServer.close(resolve));
    }
  });
});
