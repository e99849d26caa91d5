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
  receiver = await Receiver.start();
  stack = await startTestStack({}, {
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
    expect((await stack.request('GET', '/readyz', undefined, {})).status).toBe(503);

    await proxy().restore();
    const accepted = await waitFor(async () => {
      const r = await stack.request('POST', '/events', event);
      return r.status === 202 ? r : undefined;
    }, 'POST /events to be accepted again', 60_000);
    expect(accepted.body.id).toBe(event.id);
    await waitFor(() => receiver.bodies().filter((b) => b.id === event.id).length === 1, 'the delivery', 60_000);
    expect((await stack.request('GET', '/readyz', undefined, {})).status).toBe(200);
  });
});
