import { expect } from 'vitest';
import type { Received } from './receiver';

/** The webhook ids of the requests a receiver got, in the order they arrived. */
export function arrivals(received: Received[]): string[] {
  return received.map((r) => String(r.headers['webhook-id']));
}

/**
 * The contract's FIFO promise over what a receiver got: every message of `accepted` (in the order of its
 * 202s) arrived, and no copy of a message arrived after the first arrival of a later one — its retries
 * and any duplicate included.
 */
export function expectInOrder(got: string[], accepted: string[]): void {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  got.forEach((id, i) => {
    if (!first.has(id)) first.set(id, i);
    last.set(id, i);
  });
  const missing = accepted.filter((id) => !first.has(id));
  expect(missing, 'messages that never arrived').toEqual([]);
  const overtaken: string[] = [];
  for (let i = 0; i + 1 < accepted.length; i += 1) {
    const [a, b] = [accepted[i]!, accepted[i + 1]!];
    if (last.get(a)! > first.get(b)!) overtaken.push(`${a} (arrival ${last.get(a)}) after ${b} (first arrival ${first.get(b)})`);
  }
  expect(overtaken, 'a message arrived after the next one had').toEqual([]);
}
