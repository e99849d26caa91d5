import { isIP } from 'node:net';
import { checkServerIdentity, connect, type TLSSocket } from 'node:tls';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import type { Config } from '../config';
import { explainTlsRefusal } from '../lib/tls-refusal';

/**
 * How every hookflow process reaches Temporal — the API's client, the worker's native connection, the
 * retention Schedule's setup, the reconciler, `npm run temporal` and the benchmarks — built from one
 * place, TEMPORAL_TLS_* and TEMPORAL_API_KEY (src/config.ts), so none of them can be left on plain gRPC.
 */
export type TemporalSettings = Pick<Config['temporal'], 'tls' | 'apiKey'>;

/** `Connection.connect`, `Connection.lazy` and `NativeConnection.connect` all take these. */
export type TemporalConnectionOptions = { address: string; tls: TLSConfig | false; apiKey?: string };

export function temporalConnectionOptions(temporal: TemporalSettings, address: string): TemporalConnectionOptions {
  const { tls, apiKey } = temporal;
  return {
    address,
    // `false`, not undefined: the SDK turns TLS on by itself when an API key is given (TEMPORAL_TLS=false says no).
    tls: tls
      ? {
          ...(tls.ca ? { serverRootCACertificate: tls.ca.pem } : {}),
          ...(tls.client ? { clientCertPair: { crt: tls.client.cert.pem, key: tls.client.key.pem } } : {}),
          ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
        }
      : false,
    ...(apiKey ? { apiKey } : {}),
  };
}

/**
 * The SDK's retries of a failed call (UNAVAILABLE while Temporal is away or refuses TLS: /readyz), made to
 * end with the connection. The SDK schedules each retry on a timer that, firing after `connection.close()`,
 * throws "Channel has been shut down" from nowhere: an uncaught exception at shutdown. These retry nothing
 * once `drain()` is called, and `drain()` returns when the last retry already scheduled has started.
 */
export function drainableRetries(): { interceptors: NonNullable<ConnectionOptions['interceptors']>; drain(): Promise<void> } {
  const defaults = defaultGrpcRetryOptions();
  let draining = false;
  let lastRetryAt = 0;
  const interceptor = makeGrpcRetryInterceptor({
    retryableDecider: (attempt, status) => !draining && defaults.retryableDecider(attempt, status),
    delayFunction: (attempt, status) => {
      const delay = defaults.delayFunction(attempt, status);
      lastRetryAt = Math.max(lastRetryAt, Date.now() + delay);
      return delay;
    },
  });
  return {
    interceptors: [interceptor],
    async drain() {
      draining = true;
      const wait = lastRetryAt - Date.now();
      // At most the SDK's longest backoff (5 s, and its jitter).
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 50));
    },
  };
}

/**
 * The environment `npm run temporal` and `npm run tctl` give the Temporal CLI and tctl: the same files by
 * the names each reads (the CLI's current env config, its older TEMPORAL_TLS_CERT family, tctl's
 * TEMPORAL_CLI_TLS_*), and TEMPORAL_TLS spelt as the CLI parses it. Paths and names only; the API key
 * goes by environment rather than a flag, out of `ps`.
 */
export function temporalCliEnvironment(temporal: TemporalSettings): Record<string, string> {
  const { tls, apiKey } = temporal;
  const env: Record<string, string> = { TEMPORAL_TLS: tls ? 'true' : 'false' };
  if (apiKey) env.TEMPORAL_API_KEY = apiKey;
  if (!tls) return env;
  if (tls.ca) Object.assign(env, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.ca.path, TEMPORAL_TLS_CA: tls.ca.path, TEMPORAL_CLI_TLS_CA: tls.ca.path });
  if (tls.client) {
    const { cert, key } = tls.client;
    Object.assign(env, {
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert.path, TEMPORAL_TLS_CERT: cert.path, TEMPORAL_CLI_TLS_CERT: cert.path,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key.path, TEMPORAL_TLS_KEY: key.path, TEMPORAL_CLI_TLS_KEY: key.path,
    });
  }
  if (tls.serverName) Object.assign(env, { TEMPORAL_TLS_SERVER_NAME: tls.serverName, TEMPORAL_CLI_TLS_SERVER_NAME: tls.serverName });
  return env;
}

/** The variables temporalCliEnvironment sets, so an inherited one it leaves unset cannot turn TLS on behind hookflow's back. */
export const TEMPORAL_CLI_TLS_VARIABLES = [
  'TEMPORAL_TLS', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CA_DATA', 'TEMPORAL_TLS_CERT_DATA', 'TEMPORAL_TLS_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA', 'TEMPORAL_TLS_CLIENT_CERT_DATA', 'TEMPORAL_TLS_CLIENT_KEY_DATA', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_CLI_TLS_CA', 'TEMPORAL_CLI_TLS_CERT', 'TEMPORAL_CLI_TLS_KEY', 'TEMPORAL_CLI_TLS_SERVER_NAME',
];

/** HTTP/2's connection preface and an empty SETTINGS frame: a gRPC server answers with its own SETTINGS. */
const HTTP2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

/**
 * One TLS handshake with Temporal, as the SDK will make it (the CA, the client certificate, the name to
 * verify), then the opening of an HTTP/2 connection, since a server refuses a client certificate only
 * after the handshake (TLS 1.3). Says why the server or hookflow refused, as a sentence naming the
 * setting to change; undefined when TLS held, or when nothing answered in `timeoutMs` (an unreachable
 * Temporal is the roles' business: the API starts and says so in /readyz, the worker waits).
 */
export async function temporalTlsRefusal(temporal: TemporalSettings, address: string, timeoutMs = 5_000): Promise<string | undefined> {
  const { tls } = temporal;
  if (!tls) return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const name = tls.serverName ?? host;
  let socket: TLSSocket | undefined;
  let secured = false;
  const outcome = await new Promise<unknown>((resolve) => {
    socket = connect({
      host,
      port: Number(match[3]),
      // SNI carries names only, never an IP address.
      ...(isIP(name) ? {} : { servername: name }),
      ...(tls.ca ? { ca: tls.ca.pem } : {}),
      ...(tls.client ? { cert: tls.client.cert.pem, key: tls.client.key.pem } : {}),
      ALPNProtocols: ['h2'],
      checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
    });
    socket.setTimeout(timeoutMs, () => resolve(undefined));
    socket.once('secureConnect', () => {
      secured = true;
      socket!.write(HTTP2_PREFACE);
    });
    socket.once('data', () => resolve(undefined));
    socket.once('error', resolve);
    socket.once('close', () => resolve(secured ? CLOSED : undefined));
  });
  socket?.destroy();
  const settings = {
    server: `Temporal at ${address}`,
    ca: tls.ca ? `TEMPORAL_TLS_CA (${tls.ca.path})` : undefined,
    caSetting: 'set TEMPORAL_TLS_CA to the CA that signed it',
    name,
    nameSetting: tls.serverName ? 'TEMPORAL_TLS_SERVER_NAME must be a name the certificate holds' : 'set TEMPORAL_TLS_SERVER_NAME to a name the certificate holds',
    clientCert: tls.client ? `TEMPORAL_TLS_CERT (${tls.client.cert.path})` : undefined,
    clientCertSetting: 'set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY to a client certificate and key signed by a CA the server trusts',
  };
  if (outcome === CLOSED) {
    return `${settings.server} closed the connection after the TLS handshake, without a word: it may not accept ${settings.clientCert ?? 'a connection without a client certificate'}`;
  }
  return explainTlsRefusal(outcome, settings);
}

const CLOSED = Symbol('closed after the handshake');
