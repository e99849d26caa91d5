import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Hookflow, HookflowError, rawJson, verify } from '@hookflow/client';
// @ts-expect-error: a plain ES module script of the client package, without type declarations
import { TYPES_FILE, generateTypes } from '../../packages/client/scripts/generate-types.mjs';
import { receiversClosedAfterEach, waitFor } from '../support/receiver';
import { API_KEY, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * @hookflow/client against a real hookflow: every method once, pagination, retries of 429, typed errors.
 * INGEST_RATE_LIMIT is low, so that a burst of sends meets 429s the client must ride out.
 */
let stack: TestStack;
const statuses: number[] = [];
let hookflow: Hookflow;
const receiver = receiversClosedAfterEach();

beforeAll(async () => {
  stack = await startTestStack({ INGEST_RATE_LIMIT: '40', RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '1s' });
  // Every answer the client saw, retried ones included.
  hookflow = new Hookflow(stack.apiUrl, API_KEY, {
    retries: 20,
    fetch: async (request) => {
      const response = await fetch(request);
      statuses.push(response.status);
      return response;
    },
  });
});
afterAll(() => stack?.stop());

describe('@hookflow/client', () => {
  it('calls every method of the API', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 204 }));

    const type = await hookflow.eventTypes.put('order.paid', { description: 'An order was paid.', schema: { type: 'object', required: ['orderId'] } });
    expect(type).toMatchObject({ name: 'order.paid', description: 'An order was paid.' });
    expect((await hookflow.eventTypes.list()).map((t) => t.name)).toContain('order.paid');

    const endpoint = await hookflow.endpoints.create({ tenantId, url: r.url(), eventTypes: ['order.paid'] });
    expect(await hookflow.endpoints.get(endpoint.id)).toMatchObject({ id: endpoint.id, tenantId, relay: false });
    expect((await hookflow.endpoints.list({ tenantId })).data.map((e) => e.id)).toEqual([endpoint.id]);
    expect(await hookflow.endpoints.update(endpoint.id, { description: 'orders' })).toMatchObject({ description: 'orders' });
    const secret = await hookflow.endpoints.getSecret(endpoint.id);
    expect(secret).toMatch(/^whsec_/);

    // The payload as written, digits and key order kept.
    const sent = await hookflow.events.send({ tenantId, type: 'order.paid', payload: rawJson('{"orderId": "o-1", "amount": 12345678901234567890}') });
    const delivery = await waitFor(() => r.received[0], 'the delivery');
    const event = verify<{ orderId: string }>(secret, delivery.body, delivery.headers);
    expect(event).toMatchObject({ id: sent.id, type: 'order.paid', tenantId, data: { orderId: 'o-1' } });
    expect(delivery.body).toContain('"amount":12345678901234567890');
    await waitFor(async () => (await hookflow.events.get(sent.id)).deliveries[0]?.status === 'succeeded', 'the delivery to succeed');
    expect((await hookflow.events.list({ tenantId })).data.map((e) => e.id)).toEqual([sent.id]);

    const [attempt] = (await hookflow.attempts.list({ eventId: sent.id })).data;
    expect(attempt).toMatchObject({ endpointId: endpoint.id, status: 'succeeded', statusCode: 204 });
    expect((await hookflow.attempts.list({ endpointId: endpoint.id })).data.map((a) => a.id)).toEqual([attempt!.id]);
    expect(await hookflow.attempts.get(attempt!.id)).toMatchObject({ id: attempt!.id, statusCode: 204 });

    expect(await hookflow.events.redeliver(sent.id, { endpointId: endpoint.id })).toMatchObject({ id: sent.id });
    await waitFor(() => r.received.length === 2, 'the redelivery');
    const test = await hookflow.endpoints.test(endpoint.id, { type: 'order.paid', payload: { orderId: 'test' } });
    await waitFor(() => r.received.some((d) => JSON.parse(d.body).id === test.id), 'the test event');

    const rotated = await hookflow.endpoints.rotateSecret(endpoint.id);
    expect(rotated).not.toBe(secret);
    expect(await hookflow.endpoints.recover(endpoint.id, { since: new Date(0).toISOString() })).toEqual({ count: 0 });

    const session = await hookflow.portal.createSession({ tenantId, expiresIn: '5m' });
    const portal = new Hookflow(stack.apiUrl, session.token);
    expect((await portal.endpoints.list()).data.map((e) => e.id)).toEqual([endpoint.id]);
    await hookflow.portal.revoke(session.token);
    await expect(portal.endpoints.list()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });

    await hookflow.endpoints.delete(endpoint.id);
    await expect(hookflow.endpoints.get(endpoint.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('pages through 250 events with cursors, as an async iterator; a burst of sends rides out 429s', async () => {
    const tenantId = uniqueTenant();
    const before = statuses.length;
    const ids: string[] = [];
    // 25 at a time against 40 requests a second: the API refuses some with 429 and Retry-After.
    for (let n = 0; n < 250; n += 25) {
      const batch = await Promise.all(Array.from({ length: 25 }, (_, i) => hookflow.events.send({ tenantId, type: 'page.test', payload: { n: n + i } })));
      ids.push(...batch.map((e) => e.id));
    }
    const seen = statuses.slice(before);
    expect(seen.filter((s) => s === 429).length, 'some sends were refused and retried').toBeGreaterThan(0);
    expect(seen.filter((s) => s === 202)).toHaveLength(250);

    const listed: string[] = [];
    for await (const event of hookflow.events.list({ tenantId, limit: 100 })) listed.push(event.id);
    expect(listed).toHaveLength(250);
    expect(new Set(listed)).toEqual(new Set(ids));
    const pages: number[] = [];
    for await (const page of hookflow.events.list({ tenantId, limit: 100 }).pages()) pages.push(page.data.length);
    expect(pages).toEqual([100, 100, 50]);
  });

  it('sends every event with an Idempotency-Key, so a retried send is one event', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 204 }));
    await hookflow.endpoints.create({ tenantId, url: r.url() });
    const first = await hookflow.events.send({ tenantId, type: 'once', payload: {} }, { idempotencyKey: `once-${tenantId}` });
    const again = await hookflow.events.send({ tenantId, type: 'once', payload: {} }, { idempotencyKey: `once-${tenantId}` });
    expect(again.id).toBe(first.id);
    expect(first.id).toBe(`once-${tenantId}`);
    await waitFor(() => r.received.length > 0, 'the delivery');
    expect((await hookflow.events.list({ tenantId })).data).toHaveLength(1);
  });

  it('was generated from the document this server serves at GET /openapi.json', async () => {
    const served = (await stack.request('GET', '/openapi.json')).body;
    expect((await generateTypes(served)) === readFileSync(TYPES_FILE as string, 'utf8'), 'stale: npm run generate:client').toBe(true);
  });

  it("throws typed errors carrying the contract's code and details", async () => {
    const error = await hookflow.endpoints.create({ tenantId: 'bad tenant', url: 'ftp://nowhere' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(HookflowError);
    expect(error).toMatchObject({ status: 422, code: 'validation_failed' });
    expect((error as HookflowError).details.map((d) => d.path).sort()).toEqual(['body.tenantId', 'body.url']);
    await expect(hookflow.events.get('no-such-event')).rejects.toMatchObject({ name: 'HookflowError', status: 404, code: 'not_found' });
    const unauthorized = new Hookflow(stack.apiUrl, 'wrong-key');
    await expect(unauthorized.events.list()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

