import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startExtraWorker, startTestStack, uniqueTenant, type ApiResponse, type TestStack } from '../support/stack';

/** Both limits: ingest per API key (429 + Retry-After), and rateLimitPerSecond per endpoint across workers. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ INGEST_RATE_LIMIT: '200' });
});
afterAll(() => stack?.stop());

/**
 * What rateLimitPerSecond promises, however slow the machine: slots are reserved `intervalMs` apart from
 * the first attempt on (never earlier than the events were sent), and a POST never goes out before its
 * slot, so the k-th arrival is at least k-1 intervals after the send. A late machine only delays POSTs,
 * which this allows; an unlimited endpoint gets them all within a few hundred ms, which it does not.
 * (Counting arrivals per fixed second would fail when a stall bunches late POSTs together.)
 */
function expectPaced(arrivals: number[], sentAt: number, intervalMs: number): void {
  const sorted = [...arrivals].sort((a, b) => a - b);
  // 20 ms for the clocks: slots are Postgres' clock_timestamp(), arrivals this process's Date.now().
  sorted.forEach((at, k) => expect(at - sentAt, `arrival ${k + 1}`).toBeGreaterThanOrEqual(k * intervalMs - 20));
}

describe('rateLimitPerSecond', () => {
  it('spaces deliveries to an endpoint across two workers, delaying instead of failing', async () => {
    const extra = await startExtraWorker(stack);
    const receiver = await Receiver.start();
    try {
      const tenantId = uniqueTenant();
      const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), rateLimitPerSecond: 4 }));
      const sentAt = Date.now();
      const ids = await Promise.all(Array.from({ length: 12 }, async () => (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id));
      await waitFor(() => receiver.received.length === 12, 'twelve deliveries', 60_000);
      expectPaced(receiver.received.map((r) => r.at), sentAt, 250);
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
      const sentAt = Date.now();
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
      // Still one a second, retries included: each of the twelve POSTs took a slot of its own.
      expectPaced(receiver.received.map((r) => r.at), sentAt, 1_000);
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
      // Bursts of 20 until one meets the limit. The limiter counts per second-long window from a key's first
      // request, so a burst spread over T ms touches at most ceil(T / 1000) + 1 windows of 5: the bound on
      // what it may accept, whatever the machine's speed. On any machine that sends 20 requests within a
      // second or two, an unlimited API accepts all of them and fails it.
      let accepted = 0;
      let refused: ApiResponse | undefined;
      for (let burst = 1; !refused; burst += 1) {
        expect(burst, 'bursts of 20 before one met the limit').toBeLessThanOrEqual(10);
        const started = Date.now();
        const responses = await Promise.all(Array.from({ length: 20 }, () => limited.request('POST', '/events', buildEvent({ tenantId }))));
        const windows = Math.ceil((Date.now() - started) / 1000) + 1;
        const ok = responses.filter((r) => r.status === 202).length;
        expect(ok).toBeLessThanOrEqual(5 * windows);
        expect(responses.every((r) => r.status === 202 || r.status === 429)).toBe(true);
        accepted += ok;
        refused = responses.find((r) => r.status === 429);
      }
      expect(refused.body.error.code).toBe('rate_limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Nothing refused was stored.
      const { rows } = await limited.db.query('SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1', [tenantId]);
      expect(rows[0].n).toBe(accepted);
    } finally {
      await limited.stop();
    }
  });
});
