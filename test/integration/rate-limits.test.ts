import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startExtraWorker, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/** Both limits: ingest per API key (429 + Retry-After), and rateLimitPerSecond per endpoint across workers. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ INGEST_RATE_LIMIT: '200' });
});
afterAll(() => stack?.stop());

describe('rateLimitPerSecond', () => {
  it('spaces deliveries to an endpoint across two workers, delaying instead of failing', async () => {
    const extra = await startExtraWorker(stack);
    const receiver = await Receiver.start();
    try {
      const tenantId = uniqueTenant();
      const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), rateLimitPerSecond: 4 }));
      const ids = await Promise.all(Array.from({ length: 12 }, async () => (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id));
      await waitFor(() => receiver.received.length === 12, 'twelve deliveries', 30_000);
      const times = receiver.received.map((r) => r.at).sort((a, b) => a - b);
      // Slots are reserved exactly 250 ms apart; what reaches the receiver adds dispatch jitter (more on a
      // loaded 2-core machine), so allow two extra in any second. Unlimited, all twelve arrive in ~200 ms.
      for (let i = 0; i + 6 < times.length; i += 1) expect(times[i + 6]! - times[i]!).toBeGreaterThanOrEqual(1_000);
      expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(2_400);
      const attempts = (await stack.request('GET', `/endpoints/${ep.body.id}/attempts?limit=50`)).body.data;
      expect(attempts).toHaveLength(12);
      expect(attempts.every((a: { status: string }) => a.status === 'succeeded')).toBe(true);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set(ids));
    } finally {
      await extra.stop();
      await receiver.close();
    }
  });

  it('waiting for a slot is never an attempt: a burst with failures keeps its retrySchedule and succeeds', async () => {
    // Ten deliveries at one a second; the first two POSTs fail. Their retries find slots ~10 s away,
    // far past MAX_SLOT_WAIT_MS, so they wait for them: if waiting counted as an attempt, the one retry
    // their schedule allows would be spent on waiting and the two deliveries would fail.
    const receiver = await Receiver.start((_r, index) => ({ status: index < 2 ? 500 : 200 }));
    try {
      const tenantId = uniqueTenant();
      const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), rateLimitPerSecond: 1, retrySchedule: ['1s'] }));
      const ids: string[] = [];
      for (let i = 0; i < 10; i += 1) ids.push((await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id);
      await waitFor(async () => {
        const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [ep.body.id]);
        return rows[0].n === 10;
      }, 'ten deliveries to succeed', 60_000);
      const attempts = (await stack.request('GET', `/endpoints/${ep.body.id}/attempts?limit=50`)).body.data as { messageId: string; attempt: number; status: string }[];
      expect(attempts).toHaveLength(12);
      const retried = attempts.filter((a) => a.attempt === 2);
      expect(retried).toHaveLength(2);
      expect(retried.every((a) => a.status === 'succeeded')).toBe(true);
      expect(attempts.every((a) => a.attempt <= 2)).toBe(true);
      const times = receiver.received.map((r) => r.at).sort((a, b) => a - b);
      // Still one a second: twelve POSTs need at least ten seconds between the first and the last.
      expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(10_000);
    } finally {
      await receiver.close();
    }
  });
});

describe('INGEST_RATE_LIMIT', () => {
  it('answers 429 rate_limited with Retry-After beyond the per-key limit, storing nothing', async () => {
    const limited = await startTestStack({ INGEST_RATE_LIMIT: '5' });
    try {
      const tenantId = uniqueTenant();
      const responses = await Promise.all(Array.from({ length: 20 }, () => limited.request('POST', '/events', buildEvent({ tenantId }))));
      const refused = responses.filter((r) => r.status === 429);
      const accepted = responses.filter((r) => r.status === 202);
      expect(accepted.length).toBeGreaterThanOrEqual(1);
      expect(accepted.length).toBeLessThanOrEqual(10);
      expect(refused.length).toBeGreaterThanOrEqual(10);
      expect(refused[0]!.body.error.code).toBe('rate_limited');
      expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const { rows } = await limited.db.query('SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1', [tenantId]);
      expect(rows[0].n).toBe(accepted.length);
    } finally {
      await limited.stop();
    }
  });
});
