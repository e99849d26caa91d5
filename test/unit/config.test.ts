import { describe, it, expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

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

  it('splits API_KEYS on commas and trims', () => {
    expect(loadConfig({ API_KEYS: ' key-a , key-b,key-c ,' }).apiKeys).toEqual(['key-a', 'key-b', 'key-c']);
  });

  it.each([
    ['RETRY_EXPIRY', 'soon'],
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['ALLOW_PRIVATE_NETWORK', 'maybe'],
    ['DELIVERY_TIMEOUT', '30'],
    ['RETRY_BACKOFF_COEFFICIENT', 'x'],
    ['TEMPORAL_METRICS_ADDRESS', 'localhost:9464'],
    ['TEMPORAL_METRICS_ADDRESS', '9464'],
    ['TEMPORAL_METRICS_ADDRESS', '0.0.0.0:70000'],
    ['TEMPORAL_METRICS_ADDRESS', '[0.0.0.0]:9464'],
  ])('%s=%s throws a ConfigError naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('engine and worker settings', () => {
  it('default to start-dev, no engine metrics, no overrides, and the SDK defaults for the worker', () => {
    const config = loadConfig({});
    expect(config.temporal).toMatchObject({ engine: 'dev', engineMetricsPort: 0, dynamicConfig: [], sqlitePragmas: [], historyShards: 1 });
    expect(config.worker).toEqual({ maxCachedWorkflows: undefined, maxConcurrentWorkflowTasks: undefined, maxConcurrentActivities: undefined, maxConcurrentLocalActivities: undefined });
    expect(config.databasePoolSize).toBe(20);
  });

  it('parses key=value lists and numbers', () => {
    const config = loadConfig({
      TEMPORAL_ENGINE: 'Server',
      TEMPORAL_DYNAMIC_CONFIG: 'history.cacheMaxSize=512, matching.numTaskqueueReadPartitions=1',
      TEMPORAL_SQLITE_PRAGMAS: 'synchronous=off',
      TEMPORAL_HISTORY_SHARDS: '4',
      WORKER_MAX_CACHED_WORKFLOWS: '500',
      DATABASE_POOL_SIZE: '8',
    });
    expect(config.temporal).toMatchObject({
      engine: 'server',
      dynamicConfig: [['history.cacheMaxSize', '512'], ['matching.numTaskqueueReadPartitions', '1']],
      sqlitePragmas: [['synchronous', 'off']],
      historyShards: 4,
    });
    expect(config.worker.maxCachedWorkflows).toBe(500);
    expect(config.databasePoolSize).toBe(8);
  });

  it.each([
    ['TEMPORAL_ENGINE', 'cassandra'],
    ['TEMPORAL_DYNAMIC_CONFIG', 'history.cacheMaxSize'],
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
