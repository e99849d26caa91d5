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
