import { describe, it, expect } from 'vitest';
import { nextDelayMs, planDelivery, type RetryDefaults } from '../../activities/plan';

const DEFAULTS: RetryDefaults = {
  timeoutMs: 30_000,
  initialIntervalMs: 5_000,
  backoffCoefficient: 2,
  maxIntervalMs: 60_000,
  expiryMs: 86_400_000,
};

describe('planDelivery: default policy', () => {
  const plan = planDelivery(DEFAULTS, null);

  it('runs until the expiry with unlimited attempts', () => {
    expect(plan).toMatchObject({
      scheduleToCloseMs: 86_400_000,
      maximumAttempts: 0,
      startToCloseMs: 40_000,
      retryScheduleMs: null,
    });
  });

  it('treats an empty schedule as the default', () => {
    expect(planDelivery(DEFAULTS, [])).toEqual(plan);
  });

  it.each([
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [4, 40_000],
    [5, 60_000],
    [20, 60_000],
  ])('delay after attempt %i is %i ms (capped at the maximum)', (attempt, ms) => {
    expect(nextDelayMs(plan, attempt)).toBe(ms);
  });

  it('lets Retry-After win, capped at the maximum interval', () => {
    expect(nextDelayMs(plan, 1, 42_000)).toBe(42_000);
    expect(nextDelayMs(plan, 1, 3_600_000)).toBe(60_000);
  });
});

describe('planDelivery: retry schedule', () => {
  const plan = planDelivery(DEFAULTS, [10_000, 100_000]);

  it('allows one attempt plus one per scheduled retry', () => {
    expect(plan.maximumAttempts).toBe(3);
    expect(plan.retryScheduleMs).toEqual([10_000, 100_000]);
    expect(plan.scheduleToCloseMs).toBe(DEFAULTS.expiryMs);
  });

  it('gives a schedule as long as the expiry room for its attempts, so its last retry runs', () => {
    const full = planDelivery(DEFAULTS, [43_200_000, 43_200_000]);
    expect(full.scheduleToCloseMs).toBe(DEFAULTS.expiryMs + 3 * 40_000);
  });

  it('cuts a schedule stored before the API refused longer ones at the expiry, plus its attempts', () => {
    // 20 days of retries against a one-day expiry: the delivery fails after a day and 21 attempts' time.
    const long = planDelivery(DEFAULTS, Array.from({ length: 20 }, () => 86_400_000));
    expect(long.scheduleToCloseMs).toBe(DEFAULTS.expiryMs + 21 * 40_000);
    expect(long.maximumAttempts).toBe(21);
  });

  it.each([
    [1, 10_000],
    [2, 100_000],
    [3, undefined],
    [4, undefined],
  ])('delay after attempt %i is %s', (attempt, ms) => {
    expect(nextDelayMs(plan, attempt)).toBe(ms);
  });

  it('honours Retry-After but not past the last attempt', () => {
    expect(nextDelayMs(plan, 1, 7_000)).toBe(7_000);
    expect(nextDelayMs(plan, 3, 7_000)).toBeUndefined();
  });

  it('caps Retry-After at the larger of the longest delay and the default maximum', () => {
    const long = planDelivery(DEFAULTS, [10_000, 600_000]);
    expect(long.maximumIntervalMs).toBe(600_000);
    expect(nextDelayMs(long, 1, 3_600_000)).toBe(600_000);
  });
});
