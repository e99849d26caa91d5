import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { envelopeData } from '../support/envelope';
import { receiversClosedAfterEach, waitFor } from '../support/receiver';
import { API_KEY, buildEndpoint, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * The payload exactly as sent (contract, "Ids"): numbers keep their digits, keys their order, escapes stay
 * as written, duplicate keys are refused; only whitespace between tokens may differ. Checked on the bytes
 * a real receiver gets and on the text GET /events/:id and GET /events answer, never on a parsed copy,
 * which would round the very numbers under test.
 */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '1s', RETRY_EXPIRY: '30s' });
});
afterAll(() => stack?.stop());
const receiver = receiversClosedAfterEach();

/** POST /events with the payload's text spliced in as written. */
function post(tenantId: string, payload: string, type = 'payload.sent') {
  return stack.request('POST', '/events', `{"tenantId":${JSON.stringify(tenantId)},"type":${JSON.stringify(type)},"payload":${payload}}`);
}

async function rawGet(path: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  expect(response.status, path).toBe(200);
  return response.text();
}

async function endpointFor(tenantId: string, url: string): Promise<string> {
  const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url }));
  expect(created.status).toBe(201);
  return (await stack.request('GET', `/endpoints/${created.body.id}/secret`)).body.secret;
}

const countMessages = async () => Number((await stack.db.query<{ n: string }>('SELECT count(*) AS n FROM messages')).rows[0]!.n);

const EXACT: [what: string, payload: string][] = [
  ['a 20-digit integer', '{"n":12345678901234567890}'],
  ['a trailing zero', '{"n":10.10}'],
  ['a number beyond a double', '{"n":1e400}'],
  ['negative zero', '{"n":-0}'],
  ['an upper-case exponent with a sign', '{"n":1E+2}'],
  ['integer-like keys out of order', '{"2":1,"1":2,"b":{"10":true,"9":false}}'],
  ['unicode and other escapes', '{"s":"\\u00e9\\u00E9\\u2028\\ud83d\\ude00\\/\\"","\\u0041":"A","raw":"é😀"}'],
];

describe('the payload exactly as sent', () => {
  it('numbers, key order and escapes arrive as written: in the signed body, GET /events/:id and GET /events', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const secret = await endpointFor(tenantId, r.url());
    const sent: { what: string; payload: string; id: string }[] = [];
    for (const [what, payload] of EXACT) {
      const response = await post(tenantId, payload);
      expect(response.status, `${what}: ${JSON.stringify(response.body)}`).toBe(202);
      sent.push({ what, payload, id: response.body.id });
    }
    await waitFor(() => r.received.length === sent.length, 'every delivery');

    const list = await rawGet(`/events?tenantId=${tenantId}&limit=100`);
    for (const { what, payload, id } of sent) {
      const got = r.received.find((x) => x.headers['webhook-id'] === id)!;
      expect(envelopeData(got.body), what).toBe(payload);
      const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(got.headers[h])]));
      expect(() => new StandardWebhook(secret).verify(got.body, headers), what).not.toThrow();
      expect(await rawGet(`/events/${id}`), what).toContain(`"payload":${payload},"channels":`);
      expect(list, what).toContain(`"id":"${id}","tenantId":"${tenantId}","type":"payload.sent","payload":${payload},`);
    }
  });

  it('nested in arrays and objects, all of it at once', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    await endpointFor(tenantId, r.url());
    const payload = '{"items":[{"a":[12345678901234567890,10.10,1e400,-0,1E+2,0.1e-7]},{"2":"\\u0000","1":null}]}';
    const response = await post(tenantId, payload);
    expect(response.status).toBe(202);
    const [got] = await waitFor(() => (r.received.length === 1 ? r.received : undefined), 'the delivery');
    expect(envelopeData(got!.body)).toBe(payload);
  });

  it('only the whitespace between tokens may change', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    await endpointFor(tenantId, r.url());
    const response = await post(tenantId, '{ "a" :\n [ 1 ,\t10.10 ] ,\r\n "s" : " spaced  text " }');
    expect(response.status).toBe(202);
    const [got] = await waitFor(() => (r.received.length === 1 ? r.received : undefined), 'the delivery');
    expect(envelopeData(got!.body)).toBe('{"a":[1,10.10],"s":" spaced  text "}');
  });

  it('a gzip body is read after inflating it', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    await endpointFor(tenantId, r.url());
    const payload = '{"n":12345678901234567890}';
    const body = gzipSync(`{"tenantId":"${tenantId}","type":"payload.sent","payload":${payload}}`);
    const response = await fetch(`${stack.apiUrl}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: new Uint8Array(body),
    });
    expect(response.status).toBe(202);
    const [got] = await waitFor(() => (r.received.length === 1 ? r.received : undefined), 'the delivery');
    expect(envelopeData(got!.body)).toBe(payload);
  });

  it('duplicate keys anywhere in the body: 422 naming each path, nothing stored', async () => {
    const before = await countMessages();
    const cases: [body: string, paths: string[]][] = [
      ['{"tenantId":"t","type":"a.b","payload":{"a":1,"a":1}}', ['body.payload.a']],
      ['{"tenantId":"t","type":"a.b","payload":{"x":{"y":[{"k":1},{"k":1,"k":2}]}}}', ['body.payload.x.y.1.k']],
      ['{"tenantId":"t","type":"a.b","payload":{"\\u0061":1,"a":2}}', ['body.payload.a']],
      ['{"tenantId":"t","type":"a.b","payload":{"a":1},"payload":{"b":2}}', ['body.payload']],
      ['{"tenantId":"t","tenantId":"t","type":"a.b","payload":{}}', ['body.tenantId']],
    ];
    for (const [body, paths] of cases) {
      const response = await stack.request('POST', '/events', body);
      expect(response.status, body).toBe(422);
      expect(response.body.error.code).toBe('validation_failed');
      expect(response.body.error.details.map((d: { path: string }) => d.path), body).toEqual(paths);
    }
    expect(await countMessages()).toBe(before);
  });

  it('a duplicate key hiding thousands of levels of nesting is a 422, not a crash', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const response = await stack.request('POST', '/events', `{"tenantId":"t","type":"a.b","payload":{"a":${deep},"a":1}}`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('validation_failed');
  });

  it("an event type's JSON Schema still checks the payload, and a 20-digit integer passes as an integer", async () => {
    const type = `payload.schema.${Date.now()}`;
    const put = await stack.request('PUT', `/event-types/${type}`, { schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } });
    expect(put.status).toBe(201);
    const tenantId = uniqueTenant();
    const r = await receiver();
    await endpointFor(tenantId, r.url());
    const bad = await post(tenantId, '{"n":"12345678901234567890"}', type);
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe('body.payload.n');
    const good = await post(tenantId, '{"n":12345678901234567890}', type);
    expect(good.status).toBe(202);
    const [got] = await waitFor(() => (r.received.length === 1 ? r.received : undefined), 'the delivery');
    expect(envelopeData(got!.body)).toBe('{"n":12345678901234567890}');
  });

  it('MAX_PAYLOAD_BYTES counts the payload as stored', async () => {
    const limit = stack.config.maxPayloadBytes;
    const text = `{"s":"${'x'.repeat(limit)}"}`;
    const response = await post(uniqueTenant(), text);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
  });
});
