import { z } from 'zod';
import { parseDuration } from './duration';

/**
 * Every setting hookflow reads, parsed and checked once at start (the contract's "Configuration" table).
 * Env name, default and meaning stay together here; nothing else reads process.env.
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
  MAX_PAYLOAD_BYTES: integer('MAX_PAYLOAD_BYTES', 262_144, 1, 1_500_000),
  ALLOW_PRIVATE_NETWORK: boolean('ALLOW_PRIVATE_NETWORK'),
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
  allowPrivateNetwork: boolean;
  logLevel: string;
};

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
    allowPrivateNetwork: e.ALLOW_PRIVATE_NETWORK,
    logLevel: e.LOG_LEVEL,
  };
}
