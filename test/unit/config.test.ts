import { describe, it, expect } from 'vitest';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadClientConfig, loadConfig } from '../../src/config';

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  it('matches the contract', () => {
    expect(config.port).toBe(3000);
    expect(config.apiKeys).toEqual([]);
    expect(config.temporal).toMatchObject({ namespace: 'default', taskQueue: 'hookflow', devPort: 7233, uiPort: 8233, metricsAddress: undefined });
    expect(config.dataDir).toBe('./.hookflow');
    expect(config.delivery).toEqual({
      timeoutMs: 30_000,
      initialIntervalMs: 5_000,
      backoffCoefficient: 2,
      maxIntervalMs: 7_200_000,
      expiryMs: 86_400_000,
      disableAfterMs: 432_000_000,
    });
    expect(config.maxPayloadBytes).toBe(262_144);
    expect(config.allowPrivateNetwork).toBe(false);
    expect(config.portal.limits).toEqual({ testSendsPerMinute: 10, recoveriesPerMinute: 5, writesPerMinute: 60, endpointsPerTenant: 100 });
  });
});

describe('loadConfig parsing', () => {
  it.each([
    ['false', false],
    ['true', true],
  ])('ALLOW_PRIVATE_NETWORK=%s is %s', (value, expected) => {
    expect(loadConfig({ ALLOW_PRIVATE_NETWORK: value }).allowPrivateNetwork).toBe(expected);
  });

  it('reads durations and numbers from the environment', () => {
    const config = loadConfig({ PORT: '8080', DELIVERY_TIMEOUT: '250ms', RETRY_EXPIRY: '2h' });
    expect(config.port).toBe(8080);
    expect(config.delivery.timeoutMs).toBe(250);
    expect(config.delivery.expiryMs).toBe(7_200_000);
  });

  it.each([
    ['', undefined],
    ['0.0.0.0:9464', '0.0.0.0:9464'],
    [' 127.0.0.1:9000 ', '127.0.0.1:9000'],
    ['[::1]:9464', '[::1]:9464'],
  ])('TEMPORAL_METRICS_ADDRESS=%j is %j (unset: no Temporal metrics server)', (value, expected) => {
    expect(loadConfig({ TEMPORAL_METRICS_ADDRESS: value }).temporal.metricsAddress).toBe(expected);
  });

  it('reads the portal session limits; 0 turns one off', () => {
    const limits = loadConfig({ PORTAL_TEST_SENDS_PER_MINUTE: '3', PORTAL_RECOVERIES_PER_MINUTE: '0', PORTAL_WRITES_PER_MINUTE: '600', PORTAL_MAX_ENDPOINTS: '20' }).portal.limits;
    expect(limits).toEqual({ testSendsPerMinute: 3, recoveriesPerMinute: 0, writesPerMinute: 600, endpointsPerTenant: 20 });
  });

  it('splits API_KEYS on commas and trims', () => {
    expect(loadConfig({ API_KEYS: ' key-a , key-b,key-c ,' }).apiKeys).toEqual(['key-a', 'key-b', 'key-c']);
  });

  it.each([
    ['RETRY_EXPIRY', 'soon'],
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['ALLOW_PRIVATE_NETWORK', 'maybe'],
    ['DELIVERY_TIMEOUT', '30'],
    ['DELIVERY_TIMEOUT', '6m'],
    ['RETRY_BACKOFF_COEFFICIENT', 'x'],
    ['TEMPORAL_METRICS_ADDRESS', 'localhost:9464'],
    ['TEMPORAL_METRICS_ADDRESS', '9464'],
    ['TEMPORAL_METRICS_ADDRESS', '0.0.0.0:70000'],
    ['TEMPORAL_METRICS_ADDRESS', '[0.0.0.0]:9464'],
    ['PORTAL_TEST_SENDS_PER_MINUTE', 'ten'],
    ['PORTAL_RECOVERIES_PER_MINUTE', '-1'],
    ['PORTAL_WRITES_PER_MINUTE', '1.5'],
    ['PORTAL_MAX_ENDPOINTS', 'lots'],
  ])('%s=%s throws a ConfigError naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  // Each is accepted by the duration syntax and means nonsense at zero (no attempt, no backoff, no endpoint).
  it.each(['RETRY_EXPIRY', 'DELIVERY_TIMEOUT', 'ENDPOINT_DISABLE_AFTER', 'RETRY_INITIAL_INTERVAL', 'RETRY_MAX_INTERVAL', 'RETENTION', 'RETENTION_INTERVAL'])(
    '%s=0s is refused with a sentence naming the variable',
    (name) => {
      for (const zero of ['0s', '0ms', '0d']) {
        expect(() => loadConfig({ [name]: zero })).toThrow(ConfigError);
        expect(() => loadConfig({ [name]: zero })).toThrow(new RegExp(`^Invalid configuration: ${name} must be longer than 0 \\(default \\w+\\): "${zero}" would `));
      }
    },
  );

  it('still accepts the shortest durations above zero', () => {
    const config = loadConfig({ DELIVERY_TIMEOUT: '1ms', RETRY_INITIAL_INTERVAL: '1ms', RETRY_MAX_INTERVAL: '1s', RETRY_EXPIRY: '1s', ENDPOINT_DISABLE_AFTER: '1ms' });
    expect(config.delivery).toMatchObject({ timeoutMs: 1, initialIntervalMs: 1, maxIntervalMs: 1_000, expiryMs: 1_000, disableAfterMs: 1 });
  });
});

describe('settings other modules used to read from process.env themselves', () => {
  it('tracing: off without an endpoint; the traces protocol wins over the general one', () => {
    expect(loadConfig({}).tracing).toEqual({ endpoint: undefined, protocol: 'http/protobuf' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ' http://127.0.0.1:4318 ', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }).tracing).toEqual({
      endpoint: 'http://127.0.0.1:4318',
      protocol: 'http/json',
    });
  });

  it('tools: explicit paths, then PATH, then HOOKFLOW_TOOLS_DIR, XDG_CACHE_HOME/hookflow/bin or ~/.cache/hookflow/bin', () => {
    expect(loadConfig({ TEMPORAL_CLI_PATH: '/opt/temporal', PATH: '/bin:/usr/bin', HOOKFLOW_TOOLS_DIR: '/tools' }).tools).toEqual({
      paths: { temporal: '/opt/temporal', tctl: undefined },
      cacheDir: '/tools',
      searchPath: '/bin:/usr/bin',
    });
    expect(loadConfig({ XDG_CACHE_HOME: '/cache' }).tools.cacheDir).toBe('/cache/hookflow/bin');
    expect(loadConfig({}).tools.cacheDir).toBe(join(homedir(), '.cache', 'hookflow', 'bin'));
  });
});

describe('loadClientConfig', () => {
  it('reaches the local service on PORT by default, with the first of API_KEYS', () => {
    expect(loadClientConfig({})).toEqual({ apiUrl: 'http://127.0.0.1:3000', apiKey: undefined, dataDir: './.hookflow' });
    expect(loadClientConfig({ PORT: '8080', API_KEYS: ' a-key , b-key' })).toMatchObject({ apiUrl: 'http://127.0.0.1:8080', apiKey: 'a-key' });
  });

  it('prefers HOOKFLOW_API_URL and HOOKFLOW_API_KEY, and ignores the service-only settings', () => {
    expect(loadClientConfig({ HOOKFLOW_API_URL: 'https://hooks.example.com/', HOOKFLOW_API_KEY: 'mine', API_KEYS: 'theirs', RETRY_EXPIRY: 'soon' })).toMatchObject({
      apiUrl: 'https://hooks.example.com',
      apiKey: 'mine',
    });
  });

  it('names a bad PORT', () => {
    expect(() => loadClientConfig({ PORT: 'abc' })).toThrow(ConfigError);
    expect(() => loadClientConfig({ PORT: 'abc' })).toThrow('PORT');
  });
});

describe('engine and worker settings', () => {
  it('default to start-dev, no engine metrics, no overrides; 500 workflow-task and local-activity slots, the SDK for the rest', () => {
    const config = loadConfig({});
    expect(config.temporal).toMatchObject({ engine: 'dev', engineMetricsPort: 0, dynamicConfig: [], sqlitePragmas: [], historyShards: 1 });
    expect(config.worker).toEqual({ maxCachedWorkflows: undefined, maxConcurrentWorkflowTasks: 500, maxConcurrentActivities: undefined, maxConcurrentLocalActivities: 500 });
    expect(config.databasePoolSize).toBe(20);
  });

  it('parses key=value lists and numbers', () => {
    const config = loadConfig({
      TEMPORAL_ENGINE: 'Server',
      TEMPORAL_DYNAMIC_CONFIG: 'history.hostLevelCacheMaxSize=2048, matching.numTaskqueueReadPartitions=1',
      TEMPORAL_SQLITE_PRAGMAS: 'synchronous=off',
      TEMPORAL_HISTORY_SHARDS: '4',
      WORKER_MAX_CACHED_WORKFLOWS: '500',
      DATABASE_POOL_SIZE: '8',
    });
    expect(config.temporal).toMatchObject({
      engine: 'server',
      dynamicConfig: [['history.hostLevelCacheMaxSize', '2048'], ['matching.numTaskqueueReadPartitions', '1']],
      sqlitePragmas: [['synchronous', 'off']],
      historyShards: 4,
    });
    expect(config.worker.maxCachedWorkflows).toBe(500);
    expect(config.databasePoolSize).toBe(8);
  });

  it.each([
    ['TEMPORAL_ENGINE', 'cassandra'],
    ['TEMPORAL_DYNAMIC_CONFIG', 'history.hostLevelCacheMaxSize'],
    ['TEMPORAL_SQLITE_PRAGMAS', '=off'],
    ['TEMPORAL_HISTORY_SHARDS', '0'],
    ['WORKER_MAX_CACHED_WORKFLOWS', 'many'],
    ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', '1'],
    ['DATABASE_POOL_SIZE', '0'],
  ])('%s=%s throws a ConfigError naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
