import { describe, it, expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { retentionScheduleId } from '../../src/temporal/retention-schedule';

describe('retention configuration', () => {
  it('keeps 30 days and purges hourly by default', () => {
    expect(loadConfig({}).retention).toEqual({ maxAgeMs: 30 * 86_400_000, intervalMs: 3_600_000 });
  });

  it('reads RETENTION and RETENTION_INTERVAL as durations', () => {
    expect(loadConfig({ RETENTION: '7d', RETENTION_INTERVAL: '15m' }).retention).toEqual({ maxAgeMs: 7 * 86_400_000, intervalMs: 900_000 });
  });

  it.each([
    [{ RETENTION: 'forever' }, 'RETENTION'],
    [{ RETENTION_INTERVAL: '1.5h' }, 'RETENTION_INTERVAL'],
    [{ RETENTION: '12h' }, 'RETENTION must not be shorter than RETRY_EXPIRY'],
    [{ RETENTION: '36501d' }, 'RETENTION must be at most 36500d'],
    [{ RETENTION_INTERVAL: '30s' }, 'RETENTION_INTERVAL must be at least 1m'],
  ])('%j stops start-up with a sentence naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('allows a retention as short as the retry expiry', () => {
    expect(loadConfig({ RETENTION: '1h', RETRY_EXPIRY: '1h' }).retention.maxAgeMs).toBe(3_600_000);
  });

  it('names the schedule after the task queue: hookflow-retention by default', () => {
    expect(retentionScheduleId(loadConfig({}).temporal.taskQueue)).toBe('hookflow-retention');
  });
});
