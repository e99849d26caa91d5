import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { receiversClosedAfterEach, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';
import { deliveryWorkflowId } from '../../workflows/ids';

/**
 * The delivery path end to end: real API, real Temporal, real Postgres, real receivers. Retry timings
 * are shortened through configuration, the way an operator would set them.
 */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    RETRY_INITIAL_INTERVAL: '1s',
    RETRY_BACKOFF_COEFFICIENT: '2',
    RETRY_MAX_INTERVAL: '8s',
    RETRY_EXPIRY: '30s',
    DELIVERY_TIMEOUT: '1s',
  });
});
afterAll(() => stack?.stop());
const receiver = receiversClosedAfterEach();

async function endpoint(body: Parameters<typeof buildEndpoint>[0]): Promise<{ id: string; secret: string }> {
  const created = await stack.request('POST', '/endpoints', buildEndpoint(body));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const secret = await stack.request('GET', `/endpoints/${created.body.id}/secret`);
  return { id: created.body.id, secret: secret.body.secret };
}

async function send(event: Parameters<typeof buildEvent>[0]): Promise<string> {
  const response = await stack.request('POST', '/events', buildEvent(event));
  expect(response.status, JSON.stringify(response.body)).toBe(202);
  return response.body.id;
}

async function deliveryOf(messageId: string, endpointId: string) {
  const event = await stack.request('GET', `/events/${messageId}`);
  return event.body.deliveries.find((d: { endpointId: string }) => d.endpointId === endpointId);
}

function waitForStatus(messageId: string, endpointId: string, status: string, timeoutMs = 30_000) {
  return waitFor(async () => {
    const d = await deliveryOf(messageId, endpointId);
    return d?.status === status ? d : undefined;
  }, `delivery ${messageId} → ${endpointId} to be ${status}`, timeoutMs);
}

describe('fan-out', () => {
  it("goes to the tenant's endpoints that subscribe to the type and share a channel", async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const all = await endpoint({ tenantId, url: r.url('/all') });
    const typed = await endpoint({ tenantId, url: r.url('/typed'), eventTypes: ['sync.completed'] });
    const otherType = await endpoint({ tenantId, url: r.url('/other-type'), eventTypes: ['sync.failed'] });
    const channel = await endpoint({ tenantId, url: r.url('/channel'), channels: ['eu'] });
    const otherChannel = await endpoint({ tenantId, url: r.url('/other-channel'), channels: ['us'] });
    const disabled = await endpoint({ tenantId, url: r.url('/disabled'), disabled: true });
    await endpoint({ tenantId: uniqueTenant(), url: r.url('/other-tenant') });

    const id = await send({ tenantId, type: 'sync.completed', channels: ['eu'] });
    await waitFor(() => r.received.length >= 3, 'three deliveries');
    const event = await waitFor(async () => {
      const e = await stack.request('GET', `/events/${id}`);
      return e.body.deliveries.every((d: { status: string }) => d.status === 'succeeded') ? e.body : undefined;
    }, 'all deliveries to succeed');
    expect(event.deliveries.map((d: { endpointId: string }) => d.endpointId).sort()).toEqual([all.id, typed.id, channel.id].sort());
    expect(r.received.map((x) => x.path).sort()).toEqual(['/all', '/channel', '/typed']);
    expect([otherType.id, otherChannel.id, disabled.id]).not.toContain(event.deliveries[0].endpointId);
  });
});

describe('what a receiver gets', () => {
  it('a Standard Webhooks request that both verification libraries accept', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const ep = await endpoint({ tenantId, url: r.url(), headers: { 'x-team': 'data' } });
    const payload = { z: 1, a: { nested: ['x', 'ü'] }, n: 1.5 };
    const id = await send({ tenantId, type: 'connection.created', payload });
    const [got] = await waitFor(() => (r.received.length === 1 ? r.received : undefined), 'the delivery');

    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['webhook-id']).toBe(id);
    expect(got!.headers['user-agent']).toMatch(/^hookflow\//);
    expect(got!.headers['x-team']).toBe('data');
    expect(Math.abs(Number(got!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const headers = {
      'webhook-id': String(got!.headers['webhook-id']),
      'webhook-timestamp': String(got!.headers['webhook-timestamp']),
      'webhook-signature': String(got!.headers['webhook-signature']),
    };
    expect(new StandardWebhook(ep.secret).verify(got!.body, headers)).toMatchObject({ id, type: 'connection.created', tenantId, data: payload });
    expect(new SvixWebhook(ep.secret).verify(got!.body, headers)).toMatchObject({ id, data: payload });
    // The payload is the producer's, byte for byte, so receivers can verify the raw body.
    expect(got!.body).toContain(JSON.stringify(payload));
    const event = await stack.request('GET', `/events/${id}`);
    expect(JSON.parse(got!.body).timestamp).toBe(event.body.createdAt);
  });

  it('during a rotation, signatures under the new and the previous secret', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const ep = await endpoint({ tenantId, url: r.url() });
    const rotated = await stack.request('POST', `/endpoints/${ep.id}/secret/rotate`);
    await send({ tenantId });
    const [got] = await waitFor(() => (r.received.length === 1 ? r.received : undefined), 'the delivery');
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(got!.headers[h])]));
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new StandardWebhook(ep.secret).verify(got!.body, headers)).not.toThrow();
    expect(() => new StandardWebhook(rotated.body.secret).verify(got!.body, headers)).not.toThrow();
  });
});

describe('retries', () => {
  it('retries with growing gaps and one webhook-id, recording every attempt', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver((_req, index) => (index < 3 ? { status: 500, body: `boom ${index}` } : { status: 200 }));
    const ep = await endpoint({ tenantId, url: r.url() });
    const id = await send({ tenantId });
    const delivery = await waitForStatus(id, ep.id, 'succeeded');

    expect(r.received).toHaveLength(4);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set([id]));
    const gaps = r.received.slice(1).map((x, i) => x.at - r.received[i]!.at);
    // The contract's backoff: each retry at least its delay after the attempt before, 1 s, then 2 s, then
    // 4 s (RETRY_INITIAL_INTERVAL 1s, coefficient 2; Temporal rounds delays under about a second up, so
    // the test uses whole seconds). A constant or slower-growing backoff fails the later bounds. Gaps are
    // bounded from below only: what a machine adds on top (the first one includes the hand-over from
    // the inline attempt to the retrying activity) is not the contract's, so no ratio between them is.
    expect(gaps[0]).toBeGreaterThanOrEqual(950);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_950);
    expect(gaps[2]).toBeGreaterThanOrEqual(3_950);
    expect(delivery).toMatchObject({ attempts: 4, lastStatusCode: 200, nextAttemptAt: null });

    const attempts = (await stack.request('GET', `/events/${id}/attempts`)).body.data;
    expect(attempts.map((a: { attempt: number }) => a.attempt)).toEqual([4, 3, 2, 1]);
    expect(attempts.map((a: { status: string }) => a.status)).toEqual(['succeeded', 'failed', 'failed', 'failed']);
    expect(attempts[1]).toMatchObject({ statusCode: 500, responseBody: 'boom 2', error: 'HTTP 500' });
    const byEndpoint = (await stack.request('GET', `/endpoints/${ep.id}/attempts?status=failed`)).body.data;
    expect(byEndpoint).toHaveLength(3);
  });

  it('gives up at RETRY_EXPIRY and marks the delivery failed', async () => {
    const expiring = await startTestStack({ RETRY_INITIAL_INTERVAL: '1s', RETRY_BACKOFF_COEFFICIENT: '1', RETRY_MAX_INTERVAL: '1s', RETRY_EXPIRY: '4s', DELIVERY_TIMEOUT: '1s' });
    try {
      const tenantId = uniqueTenant();
      const r = await receiver(() => ({ status: 503 }));
      const created = await expiring.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url() }));
      const sent = await expiring.request('POST', '/events', buildEvent({ tenantId }));
      const started = Date.now();
      const delivery = await waitFor(async () => {
        const e = await expiring.request('GET', `/events/${sent.body.id}`);
        return e.body.deliveries[0]?.status === 'failed' ? e.body.deliveries[0] : undefined;
      }, 'the delivery to fail', 30_000);
      // Failed within the wait above (30 s against a 4 s expiry), so it gave up; how soon after the expiry
      // depends on the machine, which the contract does not bound.
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
      expect(delivery.endpointId).toBe(created.body.id);
      expect(delivery.attempts).toBeGreaterThanOrEqual(3);
      expect(delivery.attempts).toBe(r.received.length);
      expect(delivery.nextAttemptAt).toBeNull();
      // Postgres records the failure just before the workflow itself fails.
      const handle = expiring.temporal.workflow.getHandle(deliveryWorkflowId(sent.body.id, created.body.id));
      await waitFor(async () => (await handle.describe()).status.name === 'FAILED', 'the delivery workflow to fail', 10_000);
    } finally {
      await expiring.stop();
    }
  });

  it("an endpoint's retrySchedule: the first attempt and one after each delay, then failed", async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 500 }));
    const ep = await endpoint({ tenantId, url: r.url(), retrySchedule: ['500ms', '1500ms'] });
    const id = await send({ tenantId });
    const delivery = await waitForStatus(id, ep.id, 'failed');
    expect(r.received).toHaveLength(3);
    const gaps = r.received.slice(1).map((x, i) => x.at - r.received[i]!.at);
    // Each delay at least as long as the schedule says, in the schedule's order: swapped, the second gap
    // would be the short one. No comparison between the gaps: the first also holds the hand-over from the
    // inline attempt to the retrying activity, which the schedule does not promise anything about.
    expect(gaps[0]).toBeGreaterThanOrEqual(480);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_450);
    expect(delivery.attempts).toBe(3);
  });

  it('waits as long as Retry-After asks on 429', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver((_req, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 }));
    const ep = await endpoint({ tenantId, url: r.url() });
    const id = await send({ tenantId });
    await waitForStatus(id, ep.id, 'succeeded');
    expect(r.received).toHaveLength(2);
    // RETRY_INITIAL_INTERVAL is 1 s; the receiver asked for 3 s.
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(2_950);
  });

  it('a receiver slower than DELIVERY_TIMEOUT is a failed attempt, retried', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver((_req, index) => (index === 0 ? { status: 200, delayMs: 3_000 } : { status: 200 }));
    const ep = await endpoint({ tenantId, url: r.url() });
    const id = await send({ tenantId });
    await waitForStatus(id, ep.id, 'succeeded');
    const attempts = (await stack.request('GET', `/events/${id}/attempts`)).body.data;
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toMatchObject({ status: 'failed', statusCode: null });
    expect(attempts[1].error).toContain('DELIVERY_TIMEOUT');
    expect(attempts[1].durationMs).toBeLessThan(2_000);
  });

  it('a refused connection is a failed attempt with the error code', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const url = r.url();
    await r.close();
    const ep = await endpoint({ tenantId, url, retrySchedule: ['100ms'] });
    const id = await send({ tenantId });
    await waitForStatus(id, ep.id, 'failed');
    const attempts = (await stack.request('GET', `/events/${id}/attempts`)).body.data;
    expect(attempts).toHaveLength(2);
    expect(attempts[0].error).toContain('ECONNREFUSED');
  });
});

describe('endpoints that go away', () => {
  it('410 Gone disables the endpoint and ends the delivery', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 410 }));
    const ep = await endpoint({ tenantId, url: r.url() });
    const id = await send({ tenantId });
    await waitForStatus(id, ep.id, 'failed');
    expect(r.received).toHaveLength(1);
    const after = await stack.request('GET', `/endpoints/${ep.id}`);
    expect(after.body.disabled).toBe(true);
    expect(after.body.disabledReason).toContain('410');
    const reenabled = await stack.request('PATCH', `/endpoints/${ep.id}`, { disabled: false });
    expect(reenabled.body).toMatchObject({ disabled: false, disabledReason: null });
  });

  it.each([
    ['disabled', (id: string) => stack.request('PATCH', `/endpoints/${id}`, { disabled: true })],
    ['deleted', (id: string) => stack.request('DELETE', `/endpoints/${id}`)],
  ])('a %s endpoint ends its pending deliveries with no further POST', async (_what, remove) => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 500 }));
    const ep = await endpoint({ tenantId, url: r.url(), retrySchedule: ['2s', '2s', '2s'] });
    const id = await send({ tenantId });
    await waitFor(() => r.received.length === 1, 'the first attempt');
    await remove(ep.id);
    await waitForStatus(id, ep.id, 'failed', 15_000);
    expect(r.received).toHaveLength(1);
  });
});

describe('idempotency', () => {
  it('the same id, in the body or as Idempotency-Key, is accepted again and delivered once', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    await endpoint({ tenantId, url: r.url() });
    const event = buildEvent({ tenantId, id: `dup-${tenantId}` });
    const first = await stack.request('POST', '/events', event);
    const again = await Promise.all([
      stack.request('POST', '/events', event),
      stack.request('POST', '/events', { ...event, id: undefined }, { 'idempotency-key': event.id }),
    ]);
    expect(first.status).toBe(202);
    for (const response of again) expect(response.body).toEqual(first.body);
    await waitFor(() => r.received.length === 1, 'the delivery');
    const other = await send({ tenantId, id: `other-${tenantId}` });
    await waitFor(() => r.received.length === 2, 'the second event');
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([event.id, other]);

    const taken = await stack.request('POST', '/events', { ...event, tenantId: uniqueTenant() });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('conflict');
  });

  it('a stored message whose workflow never started is started by the retry, once', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    await endpoint({ tenantId, url: r.url() });
    const event = buildEvent({ tenantId, id: `half-${tenantId}` });
    // What an earlier request leaves behind when Temporal refused the start after the insert.
    await stack.db.query('INSERT INTO messages (id, tenant_id, event_type, payload) VALUES ($1, $2, $3, $4)', [event.id, tenantId, event.type, JSON.stringify(event.payload)]);
    const response = await stack.request('POST', '/events', event);
    expect(response.status).toBe(202);
    await waitFor(() => r.received.length === 1, 'the delivery');
    expect((await stack.request('POST', '/events', event)).status).toBe(202);
    const { rows } = await stack.db.query('SELECT workflow_started FROM messages WHERE id = $1', [event.id]);
    expect(rows[0].workflow_started).toBe(true);
  });
});

describe('listing events', () => {
  it('filters by tenant, type and delivery status, newest first, with cursors', async () => {
    const tenantId = uniqueTenant();
    const ok = await receiver();
    const failing = await receiver(() => ({ status: 500 }));
    const okEp = await endpoint({ tenantId, url: ok.url(), eventTypes: ['a.ok'] });
    const badEp = await endpoint({ tenantId, url: failing.url(), eventTypes: ['a.bad'], retrySchedule: ['100ms'] });
    const first = await send({ tenantId, type: 'a.ok' });
    const second = await send({ tenantId, type: 'a.bad' });
    const third = await send({ tenantId, type: 'a.ok' });
    await waitForStatus(second, badEp.id, 'failed');
    await waitForStatus(third, okEp.id, 'succeeded');
    await waitForStatus(first, okEp.id, 'succeeded');

    const all = await stack.request('GET', `/events?tenantId=${tenantId}&limit=2`);
    const rest = await stack.request('GET', `/events?tenantId=${tenantId}&limit=2&cursor=${all.body.nextCursor}`);
    expect([...all.body.data, ...rest.body.data].map((e: { id: string }) => e.id)).toEqual([third, second, first]);
    expect(rest.body.nextCursor).toBeNull();
    const failed = await stack.request('GET', `/events?tenantId=${tenantId}&status=failed`);
    expect(failed.body.data.map((e: { id: string }) => e.id)).toEqual([second]);
    const typed = await stack.request('GET', `/events?tenantId=${tenantId}&type=a.ok`);
    expect(typed.body.data.map((e: { id: string }) => e.id)).toEqual([third, first]);
  });
});
