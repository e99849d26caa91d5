import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration } from './duration';
import { parseEncryptionKey, type EncryptionKey } from './secret-box';

/**
 * Every setting hookflow reads, parsed and checked once at start (the contract's "Configuration" table).
 * Env name, default and meaning stay together here; nothing else reads process.env, except that
 * src/tracing.ts and the OpenTelemetry SDK read OpenTelemetry's own standard OTEL_* variables.
 */
const duration = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a duration such as 250ms, 30s, 5m, 2h or 1d, not "${text}"` });
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
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('hookflow'),
  TEMPORAL_DEV_PORT: integer('TEMPORAL_DEV_PORT', 7233, 1, 65_535),
  TEMPORAL_UI_PORT: integer('TEMPORAL_UI_PORT', 8233, 1, 65_535),
  TEMPORAL_METRICS_ADDRESS: bindAddress('TEMPORAL_METRICS_ADDRESS'),
  HOOKFLOW_DATA_DIR: z.string().trim().min(1).default('./.hookflow'),
  DELIVERY_TIMEOUT: duration('DELIVERY_TIMEOUT', '30s'),
  RETRY_INITIAL_INTERVAL: duration('RETRY_INITIAL_INTERVAL', '5s'),
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
  RETRY_MAX_INTERVAL: duration('RETRY_MAX_INTERVAL', '2h'),
  RETRY_EXPIRY: duration('RETRY_EXPIRY', '1d'),
  ENDPOINT_DISABLE_AFTER: duration('ENDPOINT_DISABLE_AFTER', '5d'),
  INGEST_RATE_LIMIT: integer('INGEST_RATE_LIMIT', 1000, 0, 1_000_000),
  MAX_PAYLOAD_BYTES: integer('MAX_PAYLOAD_BYTES', 262_144, 1, 1_500_000),
  ALLOW_PRIVATE_NETWORK: boolean('ALLOW_PRIVATE_NETWORK'),
  HOOKFLOW_ENCRYPTION_KEY: encryptionKey,
  HOOKFLOW_ENCRYPTION_KEYS_OLD: oldEncryptionKeys,
  RETENTION: duration('RETENTION', '30d'),
  RETENTION_INTERVAL: duration('RETENTION_INTERVAL', '1h'),
  PUBLIC_URL: publicUrl,
  PORTAL_FRAME_ANCESTORS: frameAncestors,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = {
  port: number;
  apiKeys: string[];
  databaseUrl: string | undefined;
  temporal: {
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    devPort: number;
    uiPort: number;
    /** Where the worker's Temporal SDK serves its own Prometheus metrics; unset = not at all. */
    metricsAddress: string | undefined;
  };
  dataDir: string;
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
  /** Signing secrets at rest (src/secret-box.ts): `key` seals and opens, `oldKeys` only open. No key = plaintext. */
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
  };
  logLevel: string;
};

const MAX_RETENTION_MS = 36_500 * 86_400_000;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) =>
      issue.code === 'custom' ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  if (e.RETRY_INITIAL_INTERVAL > e.RETRY_MAX_INTERVAL) {
    throw new ConfigError('Invalid configuration: RETRY_INITIAL_INTERVAL must not be longer than RETRY_MAX_INTERVAL');
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
  return {
    port: e.PORT,
    apiKeys: e.API_KEYS,
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      devPort: e.TEMPORAL_DEV_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      metricsAddress: e.TEMPORAL_METRICS_ADDRESS,
    },
    dataDir: e.HOOKFLOW_DATA_DIR,
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
    },
    logLevel: e.LOG_LEVEL,
  };
}
