import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/** The contract's errors and resources over real HTTP, Postgres and Temporal. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ MAX_PAYLOAD_BYTES: '2048' });
});
afterAll(() => stack?.stop());

async function countRows(table: string): Promise<number> {
  const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

describe('errors have the contract shape and change nothing', () => {
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
    ['no key', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a' }), { authorization: '' }), 401, 'unauthorized'],
    ['wrong key', () => stack.request('GET', '/events', undefined, { authorization: 'Bearer nope' }), 401, 'unauthorized'],
    ['not JSON', () => stack.request('POST', '/events', '{"tenantId":', {}), 400, 'invalid_json'],
    ['text/plain', () => stack.request('POST', '/events', 'hello', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
    ['payload over MAX_PAYLOAD_BYTES', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a', payload: { big: 'x'.repeat(3000) } })), 413, 'payload_too_large'],
    ['missing fields', () => stack.request('POST', '/events', {}), 422, 'validation_failed'],
    ['bad tenant id', () => stack.request('POST', '/events', buildEvent({ tenantId: 'no spaces' })), 422, 'validation_failed'],
    ['bad type', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a', type: '.starts.with.dot' })), 422, 'validation_failed'],
    ['payload not an object', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a', payload: [1, 2] })), 422, 'validation_failed'],
    ['unknown field', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a', extra: 1 })), 422, 'validation_failed'],
    ['deep payload', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a', payload: JSON.parse('{"a":'.repeat(100) + '1' + '}'.repeat(100)) })), 422, 'validation_failed'],
    ['event id "."', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a', id: '.' })), 422, 'validation_failed'],
    ['event id ".."', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a', id: '..' })), 422, 'validation_failed'],
    ['event id "..." as Idempotency-Key', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a' }), { 'idempotency-key': '...' }), 422, 'validation_failed'],
    ['bad Idempotency-Key', () => stack.request('POST', '/events', buildEvent({ tenantId: 'a' }), { 'idempotency-key': 'has space' }), 422, 'validation_failed'],
    ['endpoint url not http', () => stack.request('POST', '/endpoints', { tenantId: 'a', url: 'ftp://x.example/' }), 422, 'validation_failed'],
    ['endpoint bad secret', () => stack.request('POST', '/endpoints', { tenantId: 'a', url: 'https://x.example/', secret: 'whsec_short' }), 422, 'validation_failed'],
    ['endpoint reserved header', () => stack.request('POST', '/endpoints', { tenantId: 'a', url: 'https://x.example/', headers: { 'Webhook-Id': 'x' } }), 422, 'validation_failed'],
    ['endpoint bad schedule', () => stack.request('POST', '/endpoints', { tenantId: 'a', url: 'https://x.example/', retrySchedule: ['soon'] }), 422, 'validation_failed'],
    ['bad cursor', () => stack.request('GET', "/events?cursor=' OR 1=1 --"), 422, 'validation_failed'],
    ['bad limit', () => stack.request('GET', '/events?limit=100000'), 422, 'validation_failed'],
    ['unknown event', () => stack.request('GET', '/events/nope'), 404, 'not_found'],
    ['unknown endpoint', () => stack.request('PATCH', '/endpoints/ep_nope', { description: 'x' }), 404, 'not_found'],
    ['unknown route', () => stack.request('GET', '/nowhere'), 404, 'not_found'],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const [messages, endpoints] = [await countRows('messages'), await countRows('endpoints')];
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(typeof response.body.error.message).toBe('string');
    if (code === 'validation_failed') expect(response.body.error.details[0].path).toMatch(/^(body|query|headers)/);
    expect([await countRows('messages'), await countRows('endpoints')]).toEqual([messages, endpoints]);
  });

  it('refuses an endpoint on a private address unless ALLOW_PRIVATE_NETWORK', async () => {
    const strict = await startTestStack({ ALLOW_PRIVATE_NETWORK: 'false' });
    try {
      for (const url of ['http://127.0.0.1/', 'http://0x7f.1/', 'http://169.254.169.254/latest', 'http://[::1]/', 'http://10.0.0.1/']) {
        const response = await strict.request('POST', '/endpoints', { tenantId: 'a', url });
        expect(response.status, url).toBe(422);
        expect(response.body.error.details[0].message).toContain('ALLOW_PRIVATE_NETWORK');
      }
      expect((await strict.request('POST', '/endpoints', { tenantId: 'a', url: 'https://93.184.216.34/hook' })).status).toBe(201);

      // A name is checked when each attempt connects: `localhost` resolves to loopback, so nothing is sent.
      const receiver = await Receiver.start();
      try {
        const tenantId = uniqueTenant();
        const ep = await strict.request('POST', '/endpoints', { tenantId, url: receiver.url().replace('127.0.0.1', 'localhost'), retrySchedule: ['1s'] });
        expect(ep.status).toBe(201);
        const sent = await strict.request('POST', '/events', buildEvent({ tenantId }));
        const attempts = await waitFor(async () => {
          const data = (await strict.request('GET', `/events/${sent.body.id}/attempts`)).body.data;
          return data.length === 2 ? data : undefined;
        }, 'two blocked attempts');
        for (const a of attempts) expect(a.error).toMatch(/blocked: localhost resolves to .*ALLOW_PRIVATE_NETWORK/);
        expect(receiver.received).toHaveLength(0);
      } finally {
        await receiver.close();
      }
    } finally {
      await strict.stop();
    }
  });
});

describe('endpoints', () => {
  it('CRUD per tenant, never showing the secret except on its own route', async () => {
    const tenantId = uniqueTenant();
    const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: 'https://example.com/a', eventTypes: ['sync.completed'], retrySchedule: ['10s', '100s'], headers: { 'x-team': 'data' } }));
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^ep_/);
    expect(created.body).not.toHaveProperty('secret');
    expect(created.body.retrySchedule).toEqual(['10s', '100s']);

    const secret = await stack.request('GET', `/endpoints/${created.body.id}/secret`);
    expect(secret.body.secret).toMatch(/^whsec_/);
    const listing = await stack.request('GET', `/endpoints?tenantId=${tenantId}`);
    expect(listing.body.data.map((e: any) => e.id)).toEqual([created.body.id]);
    expect(JSON.stringify(listing.body)).not.toContain(secret.body.secret);

    const patched = await stack.request('PATCH', `/endpoints/${created.body.id}`, { disabled: true, description: 'paused' });
    expect(patched.body).toMatchObject({ disabled: true, description: 'paused', url: 'https://example.com/a' });

    const rotated = await stack.request('POST', `/endpoints/${created.body.id}/secret/rotate`);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret.body.secret);
    const { rows } = await stack.db.query('SELECT previous_secret, previous_secret_expires_at FROM endpoints WHERE id = $1', [created.body.id]);
    expect(rows[0].previous_secret).toBe(secret.body.secret);
    const graceHours = (rows[0].previous_secret_expires_at.getTime() - Date.now()) / 3_600_000;
    expect(graceHours).toBeGreaterThan(23.9);
    expect(graceHours).toBeLessThanOrEqual(24);

    expect((await stack.request('DELETE', `/endpoints/${created.body.id}`)).status).toBe(204);
    expect((await stack.request('GET', `/endpoints/${created.body.id}`)).status).toBe(404);
  });

  it('a retrySchedule that adds up to more than RETRY_EXPIRY is a 422 naming it, on create and on PATCH', async () => {
    const tenantId = uniqueTenant();
    // RETRY_EXPIRY is the default 1d: 12h + 12h fits exactly, a second more does not.
    const fits = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: 'https://example.com/a', retrySchedule: ['12h', '12h'] }));
    expect(fits.status).toBe(201);
    const before = await countRows('endpoints');
    const tooLong = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: 'https://example.com/a', retrySchedule: ['12h', '12h', '1s'] }));
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.error.details).toEqual([{ path: 'body.retrySchedule', message: expect.stringMatching(/adds up to 86401s, more than RETRY_EXPIRY \(1d\)/) }]);
    expect(await countRows('endpoints')).toBe(before);

    const patched = await stack.request('PATCH', `/endpoints/${fits.body.id}`, { retrySchedule: ['1d', '1d'], description: 'not applied' });
    expect(patched.status).toBe(422);
    expect(patched.body.error.details[0].path).toBe('body.retrySchedule');
    expect((await stack.request('GET', `/endpoints/${fits.body.id}`)).body).toMatchObject({ retrySchedule: ['12h', '12h'], description: 'test endpoint' });
    expect((await stack.request('PATCH', `/endpoints/${fits.body.id}`, { retrySchedule: null })).body.retrySchedule).toBeNull();
  });

  it('pages newest first with an opaque cursor', async () => {
    const tenantId = uniqueTenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: `https://example.com/${i}` }))).body.id);
    const first = await stack.request('GET', `/endpoints?tenantId=${tenantId}&limit=2`);
    const second = await stack.request('GET', `/endpoints?tenantId=${tenantId}&limit=2&cursor=${first.body.nextCursor}`);
    const third = await stack.request('GET', `/endpoints?tenantId=${tenantId}&limit=2&cursor=${second.body.nextCursor}`);
    expect([...first.body.data, ...second.body.data, ...third.body.data].map((e: any) => e.id)).toEqual(ids.reverse());
    expect(third.body.nextCursor).toBeNull();
  });
});

describe('event types', () => {
  it('a schema makes POST /events check the payload', async () => {
    const type = `order.created.${Date.now()}`;
    const put = await stack.request('PUT', `/event-types/${type}`, {
      description: 'An order',
      schema: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } } },
    });
    expect(put.status).toBe(201);
    expect((await stack.request('PUT', `/event-types/${type}`, { schema: put.body.schema })).status).toBe(200);
    const bad = await stack.request('POST', '/events', buildEvent({ tenantId: 'a', type, payload: { orderId: 7 } }));
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe('body.payload.orderId');
    const good = await stack.request('POST', '/events', buildEvent({ tenantId: 'a', type, payload: { orderId: 'o-1' } }));
    expect(good.status).toBe(202);
    const types = await stack.request('GET', '/event-types');
    expect(types.body.data.map((t: any) => t.name)).toContain(type);
    expect((await stack.request('PUT', `/event-types/${type}`, { schema: { type: 'not-a-type' } })).status).toBe(422);
  });
});

describe('health and documents', () => {
  it('healthz, readyz, metrics and openapi.json need no key', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      const response = await stack.request('GET', path, undefined, { authorization: '' });
      expect(response.status, path).toBe(200);
    }
    // Without an operator key, readiness is its status alone; with one, each check too.
    expect((await stack.request('GET', '/readyz', undefined, { authorization: '' })).body).toEqual({ status: 'ready' });
    expect((await stack.request('GET', '/readyz', undefined, { authorization: 'Bearer not-a-key' })).body).toEqual({ status: 'ready' });
    expect((await stack.request('GET', '/readyz')).body).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
    const metrics = await stack.request('GET', '/metrics', undefined, {});
    expect(metrics.body).toContain('hookflow_events_accepted_total');
    const doc = (await stack.request('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/events', '/events/{id}', '/endpoints/{id}/secret/rotate', '/event-types/{name}']));
  });
});
