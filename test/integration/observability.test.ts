import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/embedded/postgres';
import { createLogger } from '../../src/observability/logger';
import { Receiver, waitFor } from '../support/receiver';
import { API_KEY, buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * What an operator sees: request ids on every API log line and response, the delivery metrics at
 * GET /metrics, and (TEMPORAL_METRICS_ADDRESS) the Temporal SDK's own metrics on their port.
 * This file's process installs the Temporal runtime once, with the metrics address below.
 */
const lines: Record<string, any>[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
    done();
  },
});

let stack: TestStack;
let temporalMetricsAddress: string;
const receivers: Receiver[] = [];
beforeAll(async () => {
  temporalMetricsAddress = `127.0.0.1:${await freePort()}`;
  stack = await startTestStack(
    { RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '2s', RETRY_EXPIRY: '30s', TEMPORAL_METRICS_ADDRESS: temporalMetricsAddress },
    { log: createLogger('debug', sink) },
  );
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await stack?.stop();
});

async function receiver(answer: Receiver['answer']): Promise<Receiver> {
  const r = await Receiver.start(answer);
  receivers.push(r);
  return r;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${stack.apiUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe('request ids', () => {
  it('keeps a sane incoming x-request-id and echoes it', async () => {
    const response = await fetch(`${stack.apiUrl}/healthz`, { headers: { 'x-request-id': 'lb-4f2a.9:trace' } });
    expect(response.headers.get('x-request-id')).toBe('lb-4f2a.9:trace');
  });

  it.each([
    ['none', undefined],
    ['one with spaces and quotes', 'a "b" c'],
    ['one too long', 'x'.repeat(129)],
  ])('makes a new one when the request brings %s', async (_what, given) => {
    const response = await fetch(`${stack.apiUrl}/healthz`, { headers: given === undefined ? {} : { 'x-request-id': given } });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('is on the request log line, which carries neither the Authorization header nor the body', async () => {
    const marker = `payload-marker-${Date.now()}`;
    const response = await stack.request('POST', '/events', buildEvent({ tenantId: uniqueTenant(), payload: { marker } }), { 'x-request-id': 'req-events-1' });
    expect(response.status).toBe(202);
    const denied = await fetch(`${stack.apiUrl}/events/x`, { headers: { 'x-request-id': 'req-denied-1', authorization: 'Bearer not-a-key' } });
    expect(denied.status).toBe(401);

    const line = await waitFor(() => lines.find((l) => l.requestId === 'req-events-1' && l.msg === 'request completed'), 'the request log line');
    expect(line).toMatchObject({ req: { method: 'POST', url: '/events' }, res: { statusCode: 202 } });
    expect(line.responseTime).toEqual(expect.any(Number));
    await waitFor(() => lines.find((l) => l.requestId === 'req-denied-1' && l.res?.statusCode === 401), 'the 401 log line');

    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain('not-a-key');
    expect(everything).not.toContain(marker);
    expect(everything.toLowerCase()).not.toContain('authorization');
  });
});

describe('delivery metrics', () => {
  it('hookflow_delivery_latency_seconds runs from acceptance to the successful attempt, retries included', async () => {
    const tenantId = uniqueTenant();
    // The first attempt fails, so the latency covers the 1 s backoff too, not only the POST.
    const r = await receiver((_req, index) => ({ status: index === 0 ? 500 : 200 }));
    const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url() }));
    expect(created.status).toBe(201);
    const before = { count: await metric('hookflow_delivery_latency_seconds_count'), sum: await metric('hookflow_delivery_latency_seconds_sum') };
    const started = Date.now();
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
    expect(sent.status).toBe(202);

    await waitFor(async () => (await metric('hookflow_delivery_latency_seconds_count')) === before.count + 1, 'a latency observation');
    const elapsed = (Date.now() - started) / 1000;
    const latency = (await metric('hookflow_delivery_latency_seconds_sum')) - before.sum;
    expect(latency).toBeGreaterThanOrEqual(0.9);
    expect(latency).toBeLessThanOrEqual(elapsed + 1);
    expect(r.received).toHaveLength(2);

    // Delivery log lines name the message and the endpoint.
    const attemptLines = lines.filter((l) => l.msg === 'delivery attempt' && l.messageId === sent.body.id);
    expect(attemptLines.map((l) => l.endpointId)).toEqual([created.body.id, created.body.id]);
  });

  it('hookflow_endpoints_disabled_total counts an endpoint disabled by 410 Gone', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 410 }));
    const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url() }));
    const before = await metric('hookflow_endpoints_disabled_total{reason="gone"}');
    expect((await stack.request('POST', '/events', buildEvent({ tenantId }))).status).toBe(202);

    await waitFor(async () => (await stack.request('GET', `/endpoints/${created.body.id}`)).body.disabled === true, 'the endpoint to be disabled');
    await waitFor(async () => (await metric('hookflow_endpoints_disabled_total{reason="gone"}')) === before + 1, 'the counter to count it');
  });
});

describe('TEMPORAL_METRICS_ADDRESS', () => {
  it("serves the worker's Temporal SDK metrics in Prometheus format", async () => {
    const text = await waitFor(async () => {
      const body = await (await fetch(`http://${temporalMetricsAddress}/metrics`)).text();
      return /^temporal_\w+/m.test(body) ? body : undefined;
    }, 'Temporal SDK metrics');
    expect(text).toMatch(/^temporal_worker_task_slots_available\{.*task_queue="hookflow-test-/m);
  });
});
