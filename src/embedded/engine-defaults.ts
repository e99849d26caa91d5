/**
 * Dynamic config that both embedded engines (`dev` and `server`) start with; TEMPORAL_DYNAMIC_CONFIG
 * overrides any of it. Each value was chosen by measurement (BENCHMARKS.md, summary and "chain").
 */
export const ENGINE_DYNAMIC_CONFIG: [string, string][] = [
  // Each history shard reads its transfer queue (workflow tasks to hand to matching, children to start)
  // at most this many times a second; Temporal's default, 20, adds up to 50 ms to every hop of a
  // delivery's chain (message task → child start → child task), about 100 ms of a 160 ms delivery.
  ['history.transferProcessorMaxPollRPS', '1000'],
  // Mutable states of workflows kept in memory (start-dev sets 8,096, for an hour each). A delivery
  // closes within its first task, so its entry is rarely read again; this bounds the engine's heap.
  // 1,024 was too few for a 1,000-endpoint fan-out (1,021 workflows at once): one of two runs slowed by a third.
  ['history.hostLevelCacheMaxSize', '2048'],
];

/**
 * ENGINE_DYNAMIC_CONFIG with `overrides` (TEMPORAL_DYNAMIC_CONFIG) over it: a key given there replaces the
 * default. Temporal reads keys case-insensitively, so they are compared that way.
 */
export function engineDynamicConfig(overrides: [string, string][] = []): [string, string][] {
  return [...new Map([...ENGINE_DYNAMIC_CONFIG, ...overrides].map(([key, value]) => [key.toLowerCase(), [key, value] as [string, string]])).values()];
}
