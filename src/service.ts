import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { createApp } from './api/app';
import { ConfigError, type Config } from './config';
import { sealPlaintextHeaders, useSecretBox } from './db/endpoints';
import { createPool, migrate, type Db } from './db/pool';
import { startEmbeddedPostgres, startEmbeddedTemporal } from './embedded';
import type { Logger } from './observability/logger';
import { createMetrics } from './observability/metrics';
import { createSecretBox } from './secrets/secret-box';
import { startRelayHub } from './relay/hub';
import { drainableRetries, temporalConnectionOptions, temporalTlsRefusal } from './temporal/connection';
import { ensureRetentionSchedule } from './temporal/retention-schedule';
import { startReconciler } from './temporal/reconciler';
import { createDeliveryWorker } from './temporal/worker';
import { flushTracing, startTracing } from './observability/tracing';

export type Role = 'api' | 'worker';

export type Service = {
  apiUrl?: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  databaseUrl: string;
  /**
   * Resolves when a part fails for good: the worker stopped by itself, or an embedded process died
   * and could not be restarted. The CLI then stops the rest and exits non-zero.
   */
  failed: Promise<Error>;
  stop(): Promise<void>;
};

export type ServiceOptions = {
  roles: Role[];
  /** Start Temporal and Postgres when their addresses are not configured (`hookflow start`). */
  embedded: boolean;
  log: Logger;
  workflowBundle?: WorkflowBundleOption;
  /** The built portal page; default dist/portal of the package. */
  portalDir?: string;
};

/**
 * Starts the roles asked for, and in embedded mode whatever they depend on, in dependency order;
 * `stop()` takes them down in reverse. Used by the CLI and by the integration tests alike.
 */
export async function startService(config: Config, o: ServiceOptions): Promise<Service> {
  const { log } = o;
  const stops: (() => Promise<unknown>)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const fn of stops.reverse()) await fn().catch((err) => log.warn({ err }, 'error while stopping'));
  };
  let reportFailure: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolveFailed) => {
    reportFailure = (err) => {
      if (!stopping) resolveFailed(err);
    };
  });
  // A child that exits while the service stops (Ctrl-C reaches the whole process group) is not restarted.
  const supervision = { log, attempts: config.embeddedRestarts, onGiveUp: (err: Error) => reportFailure(err), isStopping: () => stopping };
  try {
    // Off (and no-ops) unless OTEL_EXPORTER_OTLP_ENDPOINT is set; spans still buffered are sent at stop.
    const tracing = startTracing(config.tracing, log);
    if (tracing.enabled) stops.push(() => flushTracing());
    const dataDir = resolve(config.dataDir);
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      if (!o.embedded) throw new ConfigError('DATABASE_URL must be set for this role (only `hookflow start` embeds Postgres).');
      const embedded = await startEmbeddedPostgres(dataDir, supervision);
      stops.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }
    await migrate(databaseUrl, log);
    const engineDatabaseUrl = databaseUrl;

    let temporalAddress = config.temporal.address;
    let temporalUiUrl: string | undefined;
    if (!temporalAddress) {
      if (!o.embedded) throw new ConfigError('TEMPORAL_ADDRESS must be set for this role (only `hookflow start` embeds Temporal).');
      const server = await startEmbeddedTemporal(config, dataDir, engineDatabaseUrl, supervision);
      stops.push(() => server.stop());
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
    } else {
      // A certificate refused either way stops start-up with a sentence, not a transport error later.
      const refusal = await temporalTlsRefusal(config.temporal, temporalAddress);
      if (refusal) throw new ConfigError(refusal);
    }
    const temporalConnection = temporalConnectionOptions(config.temporal, temporalAddress);

    const db = createPool(databaseUrl, config.databasePoolSize);
    stops.push(() => db.end());
    // Signing secrets are sealed and opened in src/db/endpoints.ts with HOOKFLOW_ENCRYPTION_KEY(S_OLD).
    useSecretBox(db, createSecretBox({ current: config.encryption.key, old: config.encryption.oldKeys }));
    if (config.encryption.key) await sealCredentialHeaders(db, log);
    const metrics = createMetrics();

    if (o.roles.includes('worker')) {
      const worker = await createDeliveryWorker({ config, address: temporalAddress, db, log, metrics, workflowBundle: o.workflowBundle, tracing });
      stops.push(() => worker.shutdown());
      // A worker that stops by itself leaves accepted events undelivered: the service must not go on as if alive.
      worker.run().then(
        () => reportFailure(new Error('the worker stopped by itself')),
        (err: unknown) => reportFailure(new Error(`the worker failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })),
      );
      await ensureRetentionSchedule({ address: temporalAddress, config, log });
      const reconciler = await startReconciler({ connection: temporalConnection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, databaseUrl, db, log });
      stops.push(() => reconciler.stop());
      log.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
    }

    let apiUrl: string | undefined;
    if (o.roles.includes('api')) {
      // Lazy: the API starts and answers 503 while Temporal is away, and recovers by itself.
      // Reconnect within seconds once Temporal is back (gRPC's default backoff grows to two minutes).
      const retries = drainableRetries();
      const connection = Connection.lazy({
        ...temporalConnection,
        interceptors: retries.interceptors,
        channelArgs: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000 },
      });
      stops.push(async () => {
        await retries.drain();
        await connection.close();
      });
      const temporal = new Client({ connection, namespace: config.temporal.namespace, interceptors: tracing.clientInterceptors });
      const { app } = createApp({ db, temporal, config, log, metrics, tracer: tracing.tracer, portalDir: o.portalDir });
      const server = await new Promise<Server>((resolveServer, reject) => {
        const s = app.listen(config.port, '0.0.0.0', () => resolveServer(s));
        s.once('error', reject);
      });
      answerParserErrors(server);
      stops.push(() => closeServer(server));
      // `hookflow listen`'s WebSockets: closed before the server, whose close would wait for them.
      const relayHub = await startRelayHub({ server, db, config, log });
      stops.push(() => relayHub.close());
      apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      log.info({ url: apiUrl }, 'API listening');
    }
    return { apiUrl, temporalAddress, temporalUiUrl, databaseUrl, failed, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Requests Node's HTTP parser refuses before Express sees them (headers over 16 KiB, malformed request
 * lines) still get the contract's error shape.
 */
function answerParserErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = JSON.stringify({
      error: tooLarge
        ? { code: 'headers_too_large', message: 'The request line and headers are larger than 16 KiB.' }
        : { code: 'invalid_request', message: 'The request is not valid HTTP/1.1.' },
    });
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
}

/**
 * Credential headers still in plaintext (moved apart by migration 0008, or stored before the key was set)
 * are sealed at start rather than at their endpoint's next write; with none, the partial index reads nothing.
 */
async function sealCredentialHeaders(db: Db, log: Logger): Promise<void> {
  const { resealed, unreadable } = await sealPlaintextHeaders(db);
  if (resealed > 0) log.info({ endpoints: resealed }, 'credential headers stored in plaintext are now encrypted');
  if (unreadable.length > 0) log.warn({ endpointIds: unreadable }, 'these endpoints have secrets sealed with a key that is not configured');
}
