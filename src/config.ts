import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { postgresTls, type ParamOrigin, type PostgresTls } from './db/connection';
import { parseDuration } from './lib/duration';
import { readCertificatePair, readCertificates, type PemFile } from './lib/pem';
import { parseEncryptionKey, type EncryptionKey } from './secrets/secret-box';

/**
 * Every setting hookflow reads, parsed and checked once at start (the contract's "Configuration" table).
 * Env name, default and meaning stay together here, and no other module of hookflow reads process.env.
 * Two things outside hookflow's code read the environment themselves: the OpenTelemetry exporter its
 * standard OTEL_EXPORTER_OTLP_* and OTEL_* variables (headers, timeout, sampler, resource), and the child
 * processes hookflow starts (the Temporal CLI, `go install`), which inherit it.
 */
/** A duration longer than zero: `zero` says what 0 would mean, since no duration here means anything at 0. */
const duration = (name: string, fallback: string, zero: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a duration such as 250ms, 30s, 5m, 2h or 1d, not "${text}"` });
        return z.NEVER;
      }
      if (ms === 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must be longer than 0 (default ${fallback}): "${text}" would ${zero}` });
        return z.NEVER;
      }
      return ms;
    });

const integer = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((text, ctx) => {
      const value = Number(text);
      if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}, not "${text}"` });
        return z.NEVER;
      }
      return value;
    });

const boolean = (name: string) =>
  z
    .string()
    .default('false')
    .transform((text, ctx) => {
      const value = text.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(value)) return true;
      if (['false', '0', 'no', ''].includes(value)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false, not "${text}"` });
      return z.NEVER;
    });

const optionalText = z
  .string()
  .optional()
  .transform((text) => (text?.trim() ? text.trim() : undefined));

/** An IP literal and a port, `0.0.0.0:9464` or `[::1]:9464`: the Temporal SDK's Prometheus exporter binds no names. */
const bindAddress = (name: string) =>
  optionalText.transform((text, ctx) => {
    if (text === undefined) return undefined;
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
    const host = match?.[1] ?? match?.[2] ?? '';
    const port = Number(match?.[3]);
    if (!match || isIP(host) === 0 || (match[1] !== undefined && isIP(host) !== 6) || port < 1 || port > 65_535) {
      ctx.addIssue({ code: 'custom', message: `${name} must be an IP address and a port such as 0.0.0.0:9464 or [::1]:9464, not "${text}"` });
      return z.NEVER;
    }
    return text;
  });

/**
 * `key=value` pairs separated by commas (`a.b=1,c.d=true`): dynamic config and SQLite pragmas of the
 * embedded engine. A value may not hold a comma; none of the settings this is for needs one.
 */
const keyValues = (name: string) =>
  optionalText.transform((text, ctx) => {
    const pairs: [string, string][] = [];
    for (const part of (text ?? '').split(',').map((p) => p.trim())) {
      if (!part) continue;
      const match = /^([A-Za-z0-9_.]+)=(.+)$/.exec(part);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: `${name} must be comma-separated key=value pairs such as history.hostLevelCacheMaxSize=2048, not "${part}"` });
        return z.NEVER;
      }
      pairs.push([match[1]!, match[2]!.trim()]);
    }
    return pairs;
  });

/** A whole number, or unset for "the library's default". */
const optionalInteger = (name: string, min: number, max: number) =>
  optionalText.transform((text, ctx) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}, not "${text}"` });
      return z.NEVER;
    }
    return value;
  });

/** Keys are never echoed in a message, unlike other bad values: a typo in one is still mostly the key. */
const KEY_FORMAT = '32 random bytes in base64 (44 characters, e.g. from `openssl rand -base64 32`)';

const encryptionKey = optionalText.transform((text, ctx) => {
  if (text === undefined) return undefined;
  const key = parseEncryptionKey(text);
  if (!key) {
    ctx.addIssue({ code: 'custom', message: `HOOKFLOW_ENCRYPTION_KEY must be ${KEY_FORMAT}; the value given is not (and is not shown, since it may be most of a key)` });
    return z.NEVER;
  }
  return key;
});

const oldEncryptionKeys = optionalText.transform((text, ctx) => {
  const keys: EncryptionKey[] = [];
  for (const [index, part] of (text ?? '').split(',').map((p) => p.trim()).entries()) {
    if (!part) continue;
    const key = parseEncryptionKey(part);
    if (!key) {
      ctx.addIssue({ code: 'custom', message: `HOOKFLOW_ENCRYPTION_KEYS_OLD must be a comma-separated list of keys, each ${KEY_FORMAT}; entry ${index + 1} is not (not shown)` });
      return z.NEVER;
    }
    keys.push(key);
  }
  return keys;
});

/** PUBLIC_URL: where customers reach this API, so portal links work behind a proxy or on another host. */
const publicUrl = optionalText.transform((text, ctx) => {
  if (text === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: `PUBLIC_URL must be an absolute http(s) URL without credentials, query or fragment, such as https://hooks.example.com, not "${text}"` });
    return z.NEVER;
  }
  return url.toString().replace(/\/+$/, '');
});

/** One CSP source expression (CSP Level 3 host-source, scheme-source or keyword); no `;` or `,`, so no header injection. */
const FRAME_SOURCE = /^(?:'self'|'none'|\*|[A-Za-z][A-Za-z0-9+.-]*:|(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::(?:\d{1,5}|\*))?(?:\/[A-Za-z0-9/._~%!$&()*+=:@-]*)?)$/;

/** PORTAL_FRAME_ANCESTORS: the origins that may show the portal in an iframe (CSP `frame-ancestors`). */
const frameAncestors = optionalText.transform((text, ctx) => {
  const sources = (text ?? "'self'").split(/[ \t]+/).filter(Boolean);
  // A bare `self` or `none` is a host by that name to a browser, never what was meant.
  const bad = sources.find((source) => !FRAME_SOURCE.test(source) || /^(self|none)$/i.test(source));
  if (bad !== undefined || (sources.includes("'none'") && sources.length > 1)) {
    ctx.addIssue({
      code: 'custom',
      message: `PORTAL_FRAME_ANCESTORS must be space-separated CSP sources such as 'self' https://app.example.com, or 'none' alone; ${bad === undefined ? "'none' cannot be combined" : `"${bad}" is not one`}`,
    });
    return z.NEVER;
  }
  return sources.join(' ');
});

const envSchema = z.object({
  PORT: integer('PORT', 3000, 0, 65_535),
  API_KEYS: optionalText.transform((text) =>
    text
      ? text
          .split(',')
          .map((key) => key.trim())
          .filter(Boolean)
      : [],
  ),
  DATABASE_URL: optionalText,
  // libpq's variables for DATABASE_URL's TLS parameters, used where the URL has none (src/db/connection.ts).
  PGSSLMODE: optionalText,
  PGSSLROOTCERT: optionalText,
  PGSSLCERT: optionalText,
  PGSSLKEY: optionalText,
  DATABASE_POOL_SIZE: integer('DATABASE_POOL_SIZE', 20, 1, 1_000),
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('hookflow'),
  TEMPORAL_DEV_PORT: integer('TEMPORAL_DEV_PORT', 7233, 1, 65_535),
  TEMPORAL_UI_PORT: integer('TEMPORAL_UI_PORT', 8233, 1, 65_535),
  TEMPORAL_METRICS_ADDRESS: bindAddress('TEMPORAL_METRICS_ADDRESS'),
  // TLS and authentication to TEMPORAL_ADDRESS (src/temporal/connection.ts); the files are read by temporalConnection().
  TEMPORAL_TLS: optionalText.transform((text, ctx) => {
    if (text === undefined) return undefined;
    const value = text.toLowerCase();
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    ctx.addIssue({ code: 'custom', message: `TEMPORAL_TLS must be true or false (unset: on when another TEMPORAL_TLS_* or TEMPORAL_API_KEY is set), not "${text}"` });
    return z.NEVER;
  }),
  TEMPORAL_TLS_CA: optionalText,
  TEMPORAL_TLS_CERT: optionalText,
  TEMPORAL_TLS_KEY: optionalText,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  TEMPORAL_API_KEY: optionalText,
  // The Temporal CLI's newer names for the same three files (its env config), read when hookflow's own are unset.
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText,
  TEMPORAL_ENGINE: z
    .string()
    .default('dev')
    .transform((text, ctx) => {
      const value = text.trim().toLowerCase();
      if (value === 'dev' || value === 'server') return value;
      ctx.addIssue({ code: 'custom', message: `TEMPORAL_ENGINE must be dev (temporal server start-dev on SQLite) or server (the Temporal server on Postgres), not "${text}"` });
      return z.NEVER;
    }),
  TEMPORAL_ENGINE_METRICS_PORT: integer('TEMPORAL_ENGINE_METRICS_PORT', 0, 0, 65_535),
  TEMPORAL_DYNAMIC_CONFIG: keyValues('TEMPORAL_DYNAMIC_CONFIG'),
  TEMPORAL_SQLITE_PRAGMAS: keyValues('TEMPORAL_SQLITE_PRAGMAS'),
  TEMPORAL_HISTORY_SHARDS: integer('TEMPORAL_HISTORY_SHARDS', 1, 1, 16_384),
  WORKER_MAX_CACHED_WORKFLOWS: optionalInteger('WORKER_MAX_CACHED_WORKFLOWS', 0, 1_000_000),
  // A delivery's first attempt runs inside its workflow task, as a local activity: each slow receiver holds a
  // workflow-task slot and a local-activity slot. The SDK's defaults (40 and 100) would let 40 slow receivers
  // stall every workflow (test/integration/ownership.test.ts, "slow receivers").
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: integer('WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 500, 2, 10_000),
  WORKER_MAX_CONCURRENT_ACTIVITIES: optionalInteger('WORKER_MAX_CONCURRENT_ACTIVITIES', 1, 100_000),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: integer('WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES', 500, 1, 100_000),
  HOOKFLOW_DATA_DIR: z.string().trim().min(1).default('./.hookflow'),
  EMBEDDED_RESTARTS: integer('EMBEDDED_RESTARTS', 6, 0, 100),
  DELIVERY_TIMEOUT: duration('DELIVERY_TIMEOUT', '30s', 'fail every attempt before its request is sent'),
  RETRY_INITIAL_INTERVAL: duration('RETRY_INITIAL_INTERVAL', '5s', 'retry a failed delivery at once, without backing off'),
  RETRY_BACKOFF_COEFFICIENT: z
    .string()
    .default('2')
    .transform((text, ctx) => {
      const value = Number(text);
      if (!Number.isFinite(value) || value < 1 || value > 100 || text.trim() === '') {
        ctx.addIssue({ code: 'custom', message: `RETRY_BACKOFF_COEFFICIENT must be a number from 1 to 100, not "${text}"` });
        return z.NEVER;
      }
      return value;
    }),
  RETRY_MAX_INTERVAL: duration('RETRY_MAX_INTERVAL', '2h', 'retry a failed delivery at once, without backing off'),
  RETRY_EXPIRY: duration('RETRY_EXPIRY', '1d', 'give up on a delivery before its first attempt'),
  ENDPOINT_DISABLE_AFTER: duration('ENDPOINT_DISABLE_AFTER', '5d', 'disable an endpoint at its first failed attempt'),
  INGEST_RATE_LIMIT: integer('INGEST_RATE_LIMIT', 1000, 0, 1_000_000),
  MAX_PAYLOAD_BYTES: integer('MAX_PAYLOAD_BYTES', 262_144, 1, 1_500_000),
  ALLOW_PRIVATE_NETWORK: boolean('ALLOW_PRIVATE_NETWORK'),
  HOOKFLOW_ENCRYPTION_KEY: encryptionKey,
  HOOKFLOW_ENCRYPTION_KEYS_OLD: oldEncryptionKeys,
  RETENTION: duration('RETENTION', '30d', 'purge messages as soon as they are accepted'),
  RETENTION_INTERVAL: duration('RETENTION_INTERVAL', '1h', 'run the purge without pause'),
  PUBLIC_URL: publicUrl,
  PORTAL_FRAME_ANCESTORS: frameAncestors,
  // What one portal session may do (src/api/portal-limits.ts); 0 = no limit.
  PORTAL_TEST_SENDS_PER_MINUTE: integer('PORTAL_TEST_SENDS_PER_MINUTE', 10, 0, 1_000_000),
  PORTAL_RECOVERIES_PER_MINUTE: integer('PORTAL_RECOVERIES_PER_MINUTE', 5, 0, 1_000_000),
  PORTAL_WRITES_PER_MINUTE: integer('PORTAL_WRITES_PER_MINUTE', 60, 0, 1_000_000),
  PORTAL_MAX_ENDPOINTS: integer('PORTAL_MAX_ENDPOINTS', 100, 0, 1_000_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Tracing: on when the endpoint is set; the exporter reads the endpoint and the other OTEL_* itself.
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.transform((text, ctx) => {
    if (text === undefined) return undefined;
    if (!/^https?:$/.test(safeUrl(text)?.protocol ?? '')) {
      ctx.addIssue({ code: 'custom', message: 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://127.0.0.1:4318 (the value is not shown: a URL may carry credentials)' });
      return z.NEVER;
    }
    return text;
  }),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optionalText,
  OTEL_EXPORTER_OTLP_PROTOCOL: optionalText,
  // Where `npm start` and `npm run temporal|tctl` find the Temporal CLI and tctl (src/embedded/tools.ts).
  TEMPORAL_CLI_PATH: optionalText,
  TCTL_PATH: optionalText,
  TEMPORAL_SERVER_PATH: optionalText,
  TEMPORAL_SQL_TOOL_PATH: optionalText,
  TEMPORAL_SCHEMA_DIR: optionalText,
  HOOKFLOW_TOOLS_DIR: optionalText,
  XDG_CACHE_HOME: optionalText,
  PATH: z.string().default(''),
});

/** OTLP over HTTP; the spec's default encoding is protobuf. gRPC would need a third exporter and is not offered. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

export type Config = {
  port: number;
  apiKeys: string[];
  databaseUrl: string | undefined;
  /**
   * Postgres connections per process (API and worker share one pool in `hookflow start`). Each is a
   * backend process of ~10 MiB RSS, mostly shared pages that every backend's RSS counts again.
   */
  databasePoolSize: number;
  temporal: {
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    devPort: number;
    uiPort: number;
    /** Where the worker's Temporal SDK serves its own Prometheus metrics; unset = not at all. */
    metricsAddress: string | undefined;
    /**
     * What `hookflow start` embeds when TEMPORAL_ADDRESS is unset: `dev` is `temporal server start-dev` on
     * SQLite (one process, with the UI); `server` is the Temporal server on Postgres (src/embedded/temporal-server.ts).
     */
    engine: 'dev' | 'server';
    /** The embedded engine's Prometheus `/metrics` port on 127.0.0.1; 0 = none. */
    engineMetricsPort: number;
    /** Dynamic config of the embedded engine, e.g. `[['history.hostLevelCacheMaxSize', '2048']]`. */
    dynamicConfig: [string, string][];
    /** SQLite pragmas of the dev server, over the defaults (WAL, synchronous=normal). */
    sqlitePragmas: [string, string][];
    /** History shards of the embedded `server` engine; fixed when its database is created. */
    historyShards: number;
    /** TLS to TEMPORAL_ADDRESS; undefined = plain gRPC (src/temporal/connection.ts). */
    tls: TemporalTls | undefined;
    /** TEMPORAL_API_KEY: sent as the SDK sends it (`authorization: Bearer …`), e.g. to Temporal Cloud. */
    apiKey: string | undefined;
  };
  /** Worker tuning; undefined = the Temporal SDK's default (src/temporal/worker.ts says which default hookflow sets). */
  worker: {
    maxCachedWorkflows: number | undefined;
    maxConcurrentWorkflowTasks: number;
    maxConcurrentActivities: number | undefined;
    maxConcurrentLocalActivities: number;
  };
  dataDir: string;
  /**
   * How many times in a row `hookflow start` restarts a dead embedded Postgres or Temporal before it
   * stops and exits non-zero; 0 leaves every restart to the process manager.
   */
  embeddedRestarts: number;
  delivery: {
    timeoutMs: number;
    initialIntervalMs: number;
    backoffCoefficient: number;
    maxIntervalMs: number;
    expiryMs: number;
    /** An endpoint whose every attempt has failed for this long is disabled. */
    disableAfterMs: number;
  };
  maxPayloadBytes: number;
  /** Requests per second per API key and API process; 0 = no limit. */
  ingestRateLimit: number;
  allowPrivateNetwork: boolean;
  /** Signing secrets at rest (src/secrets/secret-box.ts): `key` seals and opens, `oldKeys` only open. No key = plaintext. */
  encryption: {
    key: EncryptionKey | undefined;
    oldKeys: EncryptionKey[];
  };
  /** Messages, with their deliveries and attempts, older than `maxAgeMs` are purged every `intervalMs`. */
  retention: {
    maxAgeMs: number;
    intervalMs: number;
  };
  portal: {
    /** The API's address as customers reach it; unset = http://127.0.0.1:<the port actually listened on>. */
    publicUrl: string | undefined;
    /** CSP `frame-ancestors` sources of the portal page. */
    frameAncestors: string;
    /**
     * Per portal session, per minute: test sends, recoveries, and every other write; and how many endpoints
     * created through sessions a tenant may have. 0 = no limit. Shared by every API process (Postgres).
     */
    limits: PortalLimits;
  };
  logLevel: string;
  /** OpenTelemetry tracing (src/observability/tracing.ts): off without an endpoint. */
  tracing: {
    endpoint: string | undefined;
    protocol: (typeof OTLP_PROTOCOLS)[number];
  };
  /** The Temporal CLI and tctl: an explicit path, else PATH, else the cache dir (src/embedded/tools.ts). */
  tools: {
    paths: Record<'temporal' | 'tctl' | 'temporal-server' | 'temporal-sql-tool', string | undefined>;
    /** The Temporal server's Postgres schemas (schema/postgresql/v12); unset = in Go's module cache. */
    schemaDir: string | undefined;
    cacheDir: string;
    searchPath: string;
  };
};

/** TEMPORAL_TLS_*: read and checked at start; a certificate replaced on disk takes a restart to be used. */
export type TemporalTls = {
  /** TEMPORAL_TLS_CA: the CA that signed the server's certificate; undefined = the CAs Node trusts. */
  ca: PemFile | undefined;
  /** TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: the client certificate of mTLS; undefined = none. */
  client: { cert: PemFile; key: PemFile } | undefined;
  /** TEMPORAL_TLS_SERVER_NAME: the name sent as SNI and checked against the certificate; undefined = TEMPORAL_ADDRESS's host. */
  serverName: string | undefined;
};

export type { PostgresTls };

export type PortalLimits = { testSendsPerMinute: number; recoveriesPerMinute: number; writesPerMinute: number; endpointsPerTenant: number };

const MAX_RETENTION_MS = 36_500 * 86_400_000;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function invalid(error: z.ZodError): ConfigError {
  const lines = error.issues.map((issue) => (issue.code === 'custom' ? issue.message : `${issue.path.join('.')}: ${issue.message}`));
  return new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw invalid(parsed.error);
  const e = parsed.data;
  if (e.RETRY_INITIAL_INTERVAL > e.RETRY_MAX_INTERVAL) {
    throw new ConfigError('Invalid configuration: RETRY_INITIAL_INTERVAL must not be longer than RETRY_MAX_INTERVAL');
  }
  // The first attempt runs inside a workflow task as a local activity bounded at 6 minutes (workflows/index.ts).
  if (e.DELIVERY_TIMEOUT > 5 * 60_000) {
    throw new ConfigError('Invalid configuration: DELIVERY_TIMEOUT must be at most 5m');
  }
  // A message purged while its delivery still retries ends that delivery (MessageDeleted).
  if (e.RETENTION < e.RETRY_EXPIRY) {
    throw new ConfigError('Invalid configuration: RETENTION must not be shorter than RETRY_EXPIRY, or messages would be purged while still being retried');
  }
  if (e.RETENTION > MAX_RETENTION_MS) {
    throw new ConfigError('Invalid configuration: RETENTION must be at most 36500d (100 years)');
  }
  if (e.RETENTION_INTERVAL < 60_000) {
    throw new ConfigError('Invalid configuration: RETENTION_INTERVAL must be at least 1m');
  }
  const keyById = new Map<string, EncryptionKey>();
  for (const key of [...(e.HOOKFLOW_ENCRYPTION_KEY ? [e.HOOKFLOW_ENCRYPTION_KEY] : []), ...e.HOOKFLOW_ENCRYPTION_KEYS_OLD]) {
    const seen = keyById.get(key.id);
    // Two different keys with one 8-hex-digit id (about 1 in 4 billion): the id could not pick the key.
    if (seen && !seen.bytes.equals(key.bytes)) {
      throw new ConfigError('Invalid configuration: two keys in HOOKFLOW_ENCRYPTION_KEY and HOOKFLOW_ENCRYPTION_KEYS_OLD share a key id; generate a new HOOKFLOW_ENCRYPTION_KEY');
    }
    if (!seen) keyById.set(key.id, key);
  }
  const temporalAuth = temporalConnection(e);
  const databaseUrl = postgresUrl(e);
  const protocol = e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ConfigError(`Invalid configuration: OTEL_EXPORTER_OTLP_PROTOCOL must be ${OTLP_PROTOCOLS.join(' or ')}, not "${protocol}"`);
  }
  return {
    port: e.PORT,
    apiKeys: e.API_KEYS,
    databaseUrl,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      metricsAddress: e.TEMPORAL_METRICS_ADDRESS,
      engine: e.TEMPORAL_ENGINE,
      engineMetricsPort: e.TEMPORAL_ENGINE_METRICS_PORT,
      dynamicConfig: e.TEMPORAL_DYNAMIC_CONFIG,
      sqlitePragmas: e.TEMPORAL_SQLITE_PRAGMAS,
      historyShards: e.TEMPORAL_HISTORY_SHARDS,
      ...temporalAuth,
    },
    worker: {
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentLocalActivities: e.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
    },
    dataDir: e.HOOKFLOW_DATA_DIR,
    embeddedRestarts: e.EMBEDDED_RESTARTS,
    delivery: {
      timeoutMs: e.DELIVERY_TIMEOUT,
      initialIntervalMs: e.RETRY_INITIAL_INTERVAL,
      backoffCoefficient: e.RETRY_BACKOFF_COEFFICIENT,
      maxIntervalMs: e.RETRY_MAX_INTERVAL,
      expiryMs: e.RETRY_EXPIRY,
      disableAfterMs: e.ENDPOINT_DISABLE_AFTER,
    },
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    ingestRateLimit: e.INGEST_RATE_LIMIT,
    allowPrivateNetwork: e.ALLOW_PRIVATE_NETWORK,
    encryption: {
      key: e.HOOKFLOW_ENCRYPTION_KEY,
      // The current key listed again among the old ones is harmless; it is kept once.
      oldKeys: [...keyById.values()].filter((key) => key !== e.HOOKFLOW_ENCRYPTION_KEY),
    },
    retention: {
      maxAgeMs: e.RETENTION,
      intervalMs: e.RETENTION_INTERVAL,
    },
    portal: {
      publicUrl: e.PUBLIC_URL,
      frameAncestors: e.PORTAL_FRAME_ANCESTORS,
      limits: {
        testSendsPerMinute: e.PORTAL_TEST_SENDS_PER_MINUTE,
        recoveriesPerMinute: e.PORTAL_RECOVERIES_PER_MINUTE,
        writesPerMinute: e.PORTAL_WRITES_PER_MINUTE,
        endpointsPerTenant: e.PORTAL_MAX_ENDPOINTS,
      },
    },
    logLevel: e.LOG_LEVEL,
    tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, protocol: protocol as Config['tracing']['protocol'] },
    tools: {
      paths: { temporal: e.TEMPORAL_CLI_PATH, tctl: e.TCTL_PATH, 'temporal-server': e.TEMPORAL_SERVER_PATH, 'temporal-sql-tool': e.TEMPORAL_SQL_TOOL_PATH },
      schemaDir: e.TEMPORAL_SCHEMA_DIR,
      cacheDir: e.HOOKFLOW_TOOLS_DIR ?? join(e.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hookflow', 'bin'),
      searchPath: e.PATH,
    },
  };
}

type Env = z.infer<typeof envSchema>;

/**
 * TEMPORAL_TLS_* and TEMPORAL_API_KEY, as the Temporal CLI reads them: TLS is on when any of them is set,
 * unless TEMPORAL_TLS=false (then only an API key may be set, sent in plaintext, e.g. to a local proxy).
 */
function temporalConnection(e: Env): Pick<Config['temporal'], 'tls' | 'apiKey'> {
  const file = (own: 'TEMPORAL_TLS_CA' | 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY', cli: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH' | 'TEMPORAL_TLS_CLIENT_CERT_PATH' | 'TEMPORAL_TLS_CLIENT_KEY_PATH') => {
    if (e[own] !== undefined && e[cli] !== undefined && e[own] !== e[cli]) {
      throw new ConfigError(`Invalid configuration: ${own} and ${cli} (the Temporal CLI's name for it) name different files; set one of them`);
    }
    return e[own] !== undefined ? { name: own, path: e[own] } : e[cli] !== undefined ? { name: cli, path: e[cli] } : undefined;
  };
  const ca = file('TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH');
  const cert = file('TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CLIENT_CERT_PATH');
  const key = file('TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CLIENT_KEY_PATH');
  const serverName = e.TEMPORAL_TLS_SERVER_NAME;
  const apiKey = e.TEMPORAL_API_KEY;
  const tlsSettings = [ca?.name, cert?.name, key?.name, serverName && 'TEMPORAL_TLS_SERVER_NAME'].filter(Boolean);
  if (e.TEMPORAL_TLS === false && tlsSettings.length > 0) {
    throw new ConfigError(`Invalid configuration: TEMPORAL_TLS=false, yet ${tlsSettings.join(', ')} ${tlsSettings.length > 1 ? 'are' : 'is'} set; unset them, or TEMPORAL_TLS`);
  }
  const tls = e.TEMPORAL_TLS ?? (tlsSettings.length > 0 || apiKey !== undefined);
  if ((tls || apiKey) && !e.TEMPORAL_ADDRESS) {
    throw new ConfigError(`Invalid configuration: ${tlsSettings[0] ?? (apiKey ? 'TEMPORAL_API_KEY' : 'TEMPORAL_TLS')} applies to TEMPORAL_ADDRESS, which is unset: the Temporal that \`hookflow start\` embeds speaks plain gRPC on 127.0.0.1`);
  }
  if (!tls) return { tls: undefined, apiKey };
  if (serverName !== undefined && !/^[A-Za-z0-9.:_-]+$/.test(serverName)) {
    throw new ConfigError(`Invalid configuration: TEMPORAL_TLS_SERVER_NAME must be a host name such as temporal.example.com, not "${serverName}"`);
  }
  let caFile: PemFile | undefined;
  if (ca) {
    const read = readCertificates(ca.name, ca.path);
    if ('error' in read) throw new ConfigError(`Invalid configuration: ${read.error}`);
    caFile = { path: read.ok.path, pem: read.ok.pem };
  }
  let client: TemporalTls['client'];
  if (cert || key) {
    if (!cert || !key) throw new ConfigError(`Invalid configuration: ${cert ? cert.name : key!.name} is set without ${cert ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'}: a client certificate needs both`);
    const pair = readCertificatePair({ cert: cert.name, key: key.name }, { cert: cert.path, key: key.path });
    if ('error' in pair) throw new ConfigError(`Invalid configuration: ${pair.error}`);
    client = { cert: pair.ok.cert, key: pair.ok.key };
  }
  return { tls: { ca: caFile, client, serverName }, apiKey };
}

/** libpq's environment, for what DATABASE_URL itself does not say. */
const PG_ENV = { sslmode: 'PGSSLMODE', sslrootcert: 'PGSSLROOTCERT', sslcert: 'PGSSLCERT', sslkey: 'PGSSLKEY' } as const;

/**
 * DATABASE_URL with PGSSLMODE, PGSSLROOTCERT, PGSSLCERT and PGSSLKEY folded in where the URL has no such
 * parameter (as libpq does), its TLS checked (src/db/connection.ts): every part that connects — the pools,
 * node-pg-migrate, the Temporal server engine — then reads one string.
 */
function postgresUrl(e: Env): string | undefined {
  const text = e.DATABASE_URL;
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('Invalid configuration: DATABASE_URL must be a URL such as postgres://user:password@host:5432/hookflow (the value is not shown: it may hold a password)');
  }
  const folded = (Object.keys(PG_ENV) as (keyof typeof PG_ENV)[]).filter((param) => !url.searchParams.has(param) && e[PG_ENV[param]] !== undefined);
  for (const param of folded) url.searchParams.set(param, e[PG_ENV[param]]!);
  const origin: ParamOrigin = (param) => (folded.includes(param) ? PG_ENV[param] : `DATABASE_URL's ${param}`);
  const result = folded.length > 0 ? url.toString() : text;
  const tls = postgresTls(result, origin);
  if ('error' in tls) throw new ConfigError(`Invalid configuration: ${tls.error}`);
  return result;
}

/** What the client commands (`hookflow events send`, …) need: where the API is and a key for it. */
export type ClientConfig = {
  apiUrl: string;
  /** HOOKFLOW_API_KEY, else the first of API_KEYS; else the key `hookflow start` keeps in `dataDir`. */
  apiKey: string | undefined;
  dataDir: string;
};

/**
 * The client commands' settings, apart from the service's: a bad RETRY_EXPIRY in the shell must not stop
 * `hookflow events get`.
 */
export function loadClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const parsed = envSchema
    .pick({ PORT: true, API_KEYS: true, HOOKFLOW_DATA_DIR: true })
    .extend({ HOOKFLOW_API_URL: optionalText, HOOKFLOW_API_KEY: optionalText })
    .safeParse(env);
  if (!parsed.success) throw invalid(parsed.error);
  const e = parsed.data;
  return {
    apiUrl: (e.HOOKFLOW_API_URL ?? `http://127.0.0.1:${e.PORT}`).replace(/\/$/, ''),
    apiKey: e.HOOKFLOW_API_KEY ?? e.API_KEYS[0],
    dataDir: e.HOOKFLOW_DATA_DIR,
  };
}
