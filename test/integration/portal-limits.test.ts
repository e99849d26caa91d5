import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, startTestStack, uniqueTenant, type ApiResponse, type TestStack } from '../support/stack';

/**
 * A portal session's writes are limited (contract, "Customer portal"): test sends, recoveries and other
 * writes per session and minute, endpoints created through sessions per tenant; over a limit, 429
 * rate_limited with Retry-After and nothing done. hookflow runs several API processes: here the stack's
 * API and a second one on the same database, which must share every count.
 */
let stack: TestStack;
let second: { url: string; close(): Promise<void> };
let receiver: Receiver;

beforeAll(async () => {
  stack = await startTestStack({
    PORTAL_TEST_SENDS_PER_MINUTE: '2',
    PORTAL_RECOVERIES_PER_MINUTE: '1',
    PORTAL_WRITES_PER_MINUTE: '5',
    PORTAL_MAX_ENDPOINTS: '2',
  });
  receiver = await Receiver.start();
  // A second API process in all but the process: its own app, limiters and connections to the same database.
  const { app } = createApp({ db: stack.db, temporal: stack.temporal, config: stack.config, log: createLogger('silent'), metrics: createMetrics() });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  second = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
});
afterAll(async () => {
  await second?.close();
  await receiver?.close();
  await stack?.stop();
});

type Api = 'first' | 'second';

/** A request with a portal token, to one of the two API processes. */
async function as(token: string, api: Api, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  if (api === 'first') return stack.request(method, path, body, { authorization: `Bearer ${token}` });
  const response = await fetch(`${second.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

async function session(tenantId: string): Promise<string> {
  const created = await stack.request('POST', '/portal/sessions', { tenantId });
  expect(created.status).toBe(201);
  return created.body.token;
}

async function endpointOf(tenantId: string): Promise<string> {
  const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url() }));
  expect(created.status).toBe(201);
  return created.body.id;
}

function expectRateLimited(response: ApiResponse, setting: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(429);
  expect(response.body.error.code).toBe('rate_limited');
  expect(response.body.error.message).toContain(setting);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

const count = async (sql: string, values: unknown[]) => (await stack.db.query<{ n: number }>(sql, values)).rows[0]!.n;

describe('portal session limits', () => {
  it('test sends: the limit holds across API processes, and a refused one stores and starts nothing', async () => {
    const tenantId = uniqueTenant();
    const endpointId = await endpointOf(tenantId);
    const token = await session(tenantId);
    expect((await as(token, 'first', 'POST', `/endpoints/${endpointId}/test`)).status).toBe(202);
    expect((await as(token, 'second', 'POST', `/endpoints/${endpointId}/test`)).status).toBe(202);
    expectRateLimited(await as(token, 'first', 'POST', `/endpoints/${endpointId}/test`), 'PORTAL_TEST_SENDS_PER_MINUTE');
    expectRateLimited(await as(token, 'second', 'POST', `/endpoints/${endpointId}/test`), 'PORTAL_TEST_SENDS_PER_MINUTE');

    // Each accepted test send is a message and a delivery; the refused ones are neither.
    await waitFor(() => receiver.received.filter((r) => r.body.includes(tenantId)).length === 2, 'the two test events');
    expect(await count('SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1', [tenantId])).toBe(2);
    // Per session: another session of the tenant has its own allowance, and the operator none.
    expect((await as(await session(tenantId), 'second', 'POST', `/endpoints/${endpointId}/test`)).status).toBe(202);
    expect((await stack.request('POST', `/endpoints/${endpointId}/test`)).status).toBe(202);
    // Test sends are not counted as other writes.
    expect((await as(token, 'first', 'PATCH', `/endpoints/${endpointId}`, { description: 'still allowed' })).status).toBe(200);
  });

  it('recoveries: one a minute here, the next refused before its workflow starts', async () => {
    const tenantId = uniqueTenant();
    const endpointId = await endpointOf(tenantId);
    // A delivery that failed, so that a recovery has something to start.
    await stack.db.query(`INSERT INTO messages (id, tenant_id, event_type, payload, workflow_started) VALUES ($1, $2, 'a.b', '{}', true)`, [`msg_${tenantId}`, tenantId]);
    await stack.db.query(`INSERT INTO deliveries (message_id, endpoint_id, status) VALUES ($1, $2, 'failed')`, [`msg_${tenantId}`, endpointId]);
    const token = await session(tenantId);
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const first = await as(token, 'second', 'POST', `/endpoints/${endpointId}/recover`, { since });
    expect(first.body).toEqual({ count: 1 });
    expectRateLimited(await as(token, 'first', 'POST', `/endpoints/${endpointId}/recover`, { since }), 'PORTAL_RECOVERIES_PER_MINUTE');

    const query = `WorkflowType = "recoverWorkflow" AND EndpointId = "${endpointId}"`;
    await waitFor(async () => (await stack.temporal.workflow.count(query)).count >= 1, 'the accepted recovery in visibility');
    // The accepted recovery redelivers the message; the refused one started nothing.
    await waitFor(() => receiver.received.some((r) => r.headers['webhook-id'] === `msg_${tenantId}`), 'the recovered delivery');
    expect((await stack.temporal.workflow.count(query)).count).toBe(1);
  });

  it('other writes: the next one is refused and changes nothing', async () => {
    const tenantId = uniqueTenant();
    const endpointId = await endpointOf(tenantId);
    const token = await session(tenantId);
    for (let i = 1; i <= 5; i += 1) {
      const patched = await as(token, i % 2 ? 'first' : 'second', 'PATCH', `/endpoints/${endpointId}`, { description: `change ${i}` });
      expect(patched.status).toBe(200);
    }
    expectRateLimited(await as(token, 'second', 'PATCH', `/endpoints/${endpointId}`, { description: 'change 6' }), 'PORTAL_WRITES_PER_MINUTE');
    expectRateLimited(await as(token, 'first', 'DELETE', `/endpoints/${endpointId}`), 'PORTAL_WRITES_PER_MINUTE');
    const endpoint = await stack.request('GET', `/endpoints/${endpointId}`);
    expect(endpoint.body.description).toBe('change 5');
    // Reading is not writing.
    expect((await as(token, 'first', 'GET', `/endpoints/${endpointId}`)).status).toBe(200);
  });

  it('endpoints: at most PORTAL_MAX_ENDPOINTS created through sessions per tenant, even when two are created at once', async () => {
    const tenantId = uniqueTenant();
    const body = { url: receiver.url() };
    const token = await session(tenantId);
    const first = await as(token, 'first', 'POST', '/endpoints', body);
    expect(first.status).toBe(201);
    expect((await as(token, 'second', 'POST', '/endpoints', body)).status).toBe(201);
    const refused = await as(token, 'first', 'POST', '/endpoints', body);
    expectRateLimited(refused, 'PORTAL_MAX_ENDPOINTS');
    // Per tenant, whichever session asks; the operator's own endpoints neither count nor are limited.
    expectRateLimited(await as(await session(tenantId), 'second', 'POST', '/endpoints', body), 'PORTAL_MAX_ENDPOINTS');
    await endpointOf(tenantId);
    expect(await count('SELECT count(*)::int AS n FROM endpoints WHERE tenant_id = $1', [tenantId])).toBe(3);

    // Deleting one makes room for one: two sessions asking at once through two API processes get one.
    expect((await as(token, 'second', 'DELETE', `/endpoints/${first.body.id}`)).status).toBe(204);
    const [a, b] = await Promise.all([
      as(await session(tenantId), 'first', 'POST', '/endpoints', body),
      as(await session(tenantId), 'second', 'POST', '/endpoints', body),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 429]);
    expect(await count('SELECT count(*)::int AS n FROM endpoints WHERE tenant_id = $1 AND portal_session_id IS NOT NULL', [tenantId])).toBe(2);
  });
});
