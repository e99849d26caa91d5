import type { DeliveryPlan } from '../workflows/types';

export type RetryDefaults = {
  timeoutMs: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
  expiryMs: number;
};

/** Time an attempt gets beyond the POST's own timeout: loading the endpoint and recording the attempt. */
const ATTEMPT_OVERHEAD_MS = 10_000;

/**
 * The retry policy of one delivery. The default is exponential until the expiry; an endpoint's own
 * `retrySchedule` replaces it with exactly schedule.length retries at those delays.
 */
export function planDelivery(defaults: RetryDefaults, retryScheduleMs: number[] | null): DeliveryPlan {
  const startToCloseMs = defaults.timeoutMs + ATTEMPT_OVERHEAD_MS;
  if (!retryScheduleMs || retryScheduleMs.length === 0) {
    return {
      startToCloseMs,
      scheduleToCloseMs: defaults.expiryMs,
      initialIntervalMs: defaults.initialIntervalMs,
      backoffCoefficient: defaults.backoffCoefficient,
      maximumIntervalMs: defaults.maxIntervalMs,
      maximumAttempts: 0,
      retryScheduleMs: null,
    };
  }
  const longest = Math.max(...retryScheduleMs);
  // The API refuses a schedule that adds up to more than the expiry, so every retry it accepted fits
  // within it, and the attempts' own time is added so that the last one still runs. A schedule stored
  // before that check is cut at the expiry, so no delivery outlives it by more than its attempts' time
  // (RETENTION >= RETRY_EXPIRY, and retention keeps a message while any delivery of it is pending).
  const scheduleMs = Math.min(retryScheduleMs.reduce((sum, ms) => sum + ms, 0), defaults.expiryMs);
  return {
    startToCloseMs,
    scheduleToCloseMs: Math.max(defaults.expiryMs, scheduleMs + (retryScheduleMs.length + 1) * startToCloseMs),
    initialIntervalMs: retryScheduleMs[0]!,
    backoffCoefficient: 1,
    maximumIntervalMs: Math.max(longest, defaults.maxIntervalMs),
    maximumAttempts: retryScheduleMs.length + 1,
    retryScheduleMs,
  };
}

/**
 * The delay before the attempt after `attempt` (1-based), or undefined when none follows.
 * Retry-After from the receiver wins, within the maximum interval.
 */
export function nextDelayMs(plan: DeliveryPlan, attempt: number, retryAfterMs?: number): number | undefined {
  if (plan.maximumAttempts > 0 && attempt >= plan.maximumAttempts) return undefined;
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, plan.maximumIntervalMs);
  if (plan.retryScheduleMs) return plan.retryScheduleMs[attempt - 1];
  return Math.min(plan.initialIntervalMs * plan.backoffCoefficient ** (attempt - 1), plan.maximumIntervalMs);
}
