import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * Postgres or Temporal away: POST /events answers 503 (never a 202 it cannot keep), /readyz says so,
 * and the same request succeeds once the dependency is back, without a restart.
 */
let stack: TestStack;
let pgProxy: TcpProxy;
let temporalProxy: TcpProxy;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await Receiver.start((r) => (r.path === '/slow' ? { status: 200, delayMs: 1_500 } : { status: 200 }));
  stack = await startTestStack({ DELIVERY_TIMEOUT: '3s', RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '2s' }, {
    route: async ({ databaseUrl, temporalAddress }) => {
      const url = new URL(databaseUrl);
      pgProxy = await TcpProxy.start(`${url.hostname}:${url.port || 5432}`);
      temporalProxy = await TcpProxy.start(temporalAddress);
      url.host = pgProxy.address;
      return { databaseUrl: url.toString(), temporalAddress: temporalProxy.address };
    },
  });
});
afterAll(async () => {
  await pgProxy?.restore();
  await temporalProxy?.restore();
  await stack?.stop();
  await pgProxy?.close();
  await temporalProxy?.close();
  await receiver?.close();
});

describe.each([
  ['Postgres', () => pgProxy],
  ['Temporal', () => temporalProxy],
])('%s unreachable', (_name, proxy) => {
  it('answers 503 unavailable, then accepts the same request once it is back', async () => {
    const tenantId = uniqueTenant();
    expect((await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url() }))).status).toBe(201);
    const event = buildEvent({ tenantId, id: `outage-${tenantId}` });

    await proxy().cut();
    const refused = await stack.request('POST', '/events', event);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('unavailable');
    // The public answer is the status alone; an operator key also gets which part failed and why.
    const publicReady = await stack.request('GET', '/readyz', undefined, { authorization: '' });
    expect(publicReady.status).toBe(503);
    expect(publicReady.body).toEqual({ status: 'unavailable' });
    const operatorReady = await stack.request('GET', '/readyz');
    expect(operatorReady.status).toBe(503);
    expect(operatorReady.body.checks[_name.toLowerCase()]).toMatch(/^(unavailable: .+|no answer within 2000 ms)$/);

    await proxy().restore();
    const accepted = await waitFor(async () => {
      const r = await stack.request('POST', '/events', event);
      return r.status === 202 ? r : undefined;
    }, 'POST /events to be accepted again', 60_000);
    expect(accepted.body.id).toBe(event.id);
    await waitFor(() => receiver.bodies().filter((b) => b.id === event.id).length === 1, 'the delivery', 60_000);
    expect((await stack.request('GET', '/readyz', undefined, {})).status).toBe(200);
  });

  it('completes a delivery that was in flight when it went away, without a restart', async () => {
    const tenantId = uniqueTenant();
    await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url('/slow') }));
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
    expect(sent.status).toBe(202);
    await waitFor(() => receiver.received.some((r) => r.headers['webhook-id'] === sent.body.id), 'the POST to be in flight');
    await proxy().cut();
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // the outage itself: what the test is about, not a settle
    await proxy().restore();
    const delivery = await waitFor(async () => {
      const d = (await stack.request('GET', `/events/${sent.body.id}`)).body?.deliveries?.[0];
      return d?.status === 'succeeded' ? d : undefined;
    }, 'the in-flight delivery to complete', 90_000);
    const posts = receiver.received.filter((r) => r.headers['webhook-id'] === sent.body.id).length;
    console.log(`[reliability] ${_name} outage mid-delivery: ${JSON.stringify({ accepted: 1, delivered: 1, lost: 0, duplicated: posts - 1 })}`);
    expect(delivery.lastStatusCode).toBe(200);
  });
});
