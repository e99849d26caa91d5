/**
 * Milliseconds. `null` is a delivery that had not arrived when the benchmark stopped waiting (at least
 * `waitedMs` after it was sent): such deliveries rank above every arrived one, so a percentile that
 * lands among them is only known to exceed `waitedMs`.
 */
export type Latency = { p50: number | null; p95: number | null; p99: number | null; max: number | null; count: number; missing: number; waitedMs?: number };

/** Nearest-rank percentiles of millisecond samples, `missing` of them never arrived; undefined when there are none. */
export function latency(samples: number[], missing = 0, waitedMs?: number): Latency | undefined {
  if (samples.length + missing === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  for (let i = 0; i < missing; i += 1) sorted.push(Infinity);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const finite = (n: number) => (Number.isFinite(n) ? n : null);
  return { p50: finite(at(50)), p95: finite(at(95)), p99: finite(at(99)), max: finite(sorted[sorted.length - 1]!), count: sorted.length, missing, waitedMs: missing > 0 ? waitedMs : undefined };
}

export const round1 = (n: number) => Math.round(n * 10) / 10;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { inPool } from '../src/lib/in-pool';
