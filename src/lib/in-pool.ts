/** Runs fn(0 … count-1) with at most `concurrency` in flight. */
export async function inPool(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
    while (next < count) {
      const i = next;
      next += 1;
      await fn(i);
    }
  });
  await Promise.all(lanes);
}
