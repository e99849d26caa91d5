import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startTestStack, type ApiResponse, type TestStack } from '../support/stack';

/**
 * Hostile input (issue 4, item 6): whatever arrives, the API answers with the contract's error shape and
 * one of its 4xx statuses, never a 5xx, and a refused request stores nothing. The API runs alone (no
 * worker), so accepted events wait in Temporal and nothing is delivered anywhere.
 */
const MAX_PAYLOAD_BYTES = 65_536;
/** express.json's limit in app.ts: the payload plus 64 KiB of envelope. */
const BODY_LIMIT = MAX_PAYLOAD_BYTES + 64 * 1024;

const CODES: Record<number, string> = {
  400: 'invalid_json',
  401: 'unauthorized',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_failed',
};

let stack: TestStack;
const fixture = { endpointId: '', secret: '', messageId: '' };

beforeAll(async () => {
  // No ingest rate limit: the properties send a few thousand requests, and 429 is not what they test.
  stack = await startTestStack({ MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES), INGEST_RATE_LIMIT: '0' }, { roles: ['api'] });
  const endpoint = await stack.request('POST', '/endpoints', { tenantId: 'fixture', url: 'https://example.com/hook', description: 'fixture' });
  expect(endpoint.status).toBe(201);
  fixture.endpointId = endpoint.body.id;
  fixture.secret = (await stack.request('GET', `/endpoints/${fixture.endpointId}/secret`)).body.secret;
  const message = await stack.request('POST', '/events', { tenantId: 'fixture-events', type: 'fixture.sent', payload: { a: 1 } });
  expect(message.status).toBe(202);
  fixture.messageId = message.body.id;
});
afterAll(() => stack?.stop());

// ---------------------------------------------------------------------------------------------------
// Sending and checking

/** Any request, byte for byte: a Buffer body gets no content-type unless one is given. */
async function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : new Uint8Array(body),
  });
  return parsed(response.status, response.headers, await response.text());
}

function parsed(status: number, headers: Headers, text: string): ApiResponse {
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text, the shape check will say so
  }
  return { status, body, headers };
}

/** node:http, for what fetch will not send: unnormalised `..` paths, Latin-1 header bytes, oversized headers. */
function rawHttp(method: string, path: string, headers: Record<string, string>, body?: string): Promise<ApiResponse & { text: string }> {
  const url = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const h = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') h.set(name, value);
        resolve({ ...parsed(res.statusCode ?? 0, h, text), text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => stack.request(method, path, body, headers);

/** Every row of the three tables a request could write, as one comparable fingerprint. */
async function snapshot(): Promise<Record<string, string>> {
  const { rows } = await stack.db.query(`
    SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY seq)), '') FROM messages t) AS messages,
           (SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY seq)), '') FROM endpoints t) AS endpoints,
           (SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY seq)), '') FROM event_types t) AS event_types`);
  return rows[0];
}

/** The contract's error: `{"error": {code, message, details?}}`, the code its status's code, nothing else. */
function expectContractError(response: ApiResponse): void {
  expect(Object.keys(CODES).map(Number), `status ${response.status}: ${JSON.stringify(response.body)}`).toContain(response.status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.body).toBeTypeOf('object');
  expect(Object.keys(response.body)).toEqual(['error']);
  const { code, message, details, ...rest } = response.body.error;
  expect(rest).toEqual({});
  expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  expect(code).toBe(CODES[response.status]);
  expect(typeof message === 'string' && message.length > 0).toBe(true);
  if (details !== undefined) {
    expect(Array.isArray(details)).toBe(true);
    for (const detail of details) {
      expect(Object.keys(detail).sort()).toEqual(['message', 'path']);
      expect(typeof detail.path).toBe('string');
      expect(typeof detail.message).toBe('string');
    }
  }
}

/** Nothing that authenticates or signs comes back in an answer. */
function expectNoSecrets(response: ApiResponse, extra: string[] = []): void {
  const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? '');
  for (const secret of [API_KEY, fixture.secret, ...extra]) expect(text).not.toContain(secret);
  if (response.status >= 400) expect(text).not.toMatch(/whsec_[A-Za-z0-9+/]{8,}/);
}

/**
 * Runs one request and checks the invariants: never a 5xx; a refusal is a contract error and leaves
 * every table as it was; no secret comes back.
 */
async function attempt(request: () => Promise<ApiResponse>, extraSecrets: string[] = []): Promise<ApiResponse> {
  const before = await snapshot();
  const response = await request();
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
  expectNoSecrets(response, extraSecrets);
  if (response.status >= 400) {
    expectContractError(response);
    expect(await snapshot()).toEqual(before);
  }
  return response;
}

// ---------------------------------------------------------------------------------------------------
// Inputs

const validEvent = () => ({ tenantId: 'hostile', type: 'order.created', payload: { orderId: 'o-1' } });
const validEndpoint = () => ({ tenantId: 'hostile', url: 'https://example.com/hook' });
const EVENT_TYPE_PATH = '/event-types/hostile.type';
const patchPath = () => `/endpoints/${fixture.endpointId}`;

const SQL = ["' OR 1=1 --", '; DROP TABLE messages; --', "1'; DELETE FROM endpoints WHERE '1'='1", '1 UNION SELECT secret FROM endpoints'];
const deepArrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObjects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const base64Cursor = (text: string) => Buffer.from(text).toString('base64url');
const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** Characters that break naive code: NUL, lone surrogates, bidi overrides, BOM, non-characters, quotes. */
const ODD_CHARS = ['\u0000', '\ud800', '\udfff', '\u202e', '\ufeff', '\uffff', '\u0085', '\u2028', "'", '"', '\\', '%', '/', '\u00e9', '\ud83d\ude00'];
const oddChar = fc.oneof(
  fc.constantFrom(...ODD_CHARS),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const oddString = fc.string({ unit: oddChar, maxLength: 40 });

/** A refusal for text Postgres cannot hold: NUL, or a UTF-16 surrogate without its partner. */
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Percent-encodes bytes as they are, so invalid UTF-8 reaches the server. */
const percentBytes = (bytes: Uint8Array) => Array.from(bytes, (b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');

// ---------------------------------------------------------------------------------------------------

type Case = [name: string, request: () => Promise<ApiResponse>, expected: number | number[]];

const namedCases: Case[] = [
  // Malformed JSON
  ['POST /events: truncated JSON', () => send('POST', '/events', '{"tenantId":"a","type":"x","payload":{"a":', { 'content-type': 'application/json' }), 400],
  ['POST /events: trailing garbage after the object', () => send('POST', '/events', `${JSON.stringify(validEvent())} trailing`, { 'content-type': 'application/json' }), 400],
  ['POST /events: single-quoted JSON', () => send('POST', '/events', "{'tenantId':'a'}", { 'content-type': 'application/json' }), 400],
  ['POST /events: NaN literal', () => send('POST', '/events', '{"tenantId":NaN}', { 'content-type': 'application/json' }), 400],
  ['POST /events: a lone NUL byte', () => send('POST', '/events', Buffer.from([0]), { 'content-type': 'application/json' }), 400],
  ['POST /events: empty body declared as JSON', () => send('POST', '/events', Buffer.alloc(0), { 'content-type': 'application/json' }), 422],
  ['POST /events: JSON null', () => json('POST', '/events', 'null'), 422],
  ['PATCH /endpoints/:id: JSON null', () => json('PATCH', patchPath(), 'null'), 422],
  ['PUT /event-types/:name: JSON null', () => json('PUT', EVENT_TYPE_PATH, 'null'), 422],
  ['POST /events: JSON string', () => json('POST', '/events', '"hello"'), 422],
  ['POST /events: JSON number 1e999', () => json('POST', '/events', '1e999'), 422],
  ['POST /events: top-level array', () => json('POST', '/events', [validEvent()]), 422],
  ['POST /events: 20,000-deep arrays as the body', () => json('POST', '/events', deepArrays(20_000)), 422],
  ['POST /events: 20,000-deep arrays in the payload', () => json('POST', '/events', `{"tenantId":"a","type":"x","payload":{"a":${deepArrays(20_000)}}}`), 422],
  ['POST /events: 20,000-deep objects in the payload', () => json('POST', '/events', `{"tenantId":"a","type":"x","payload":${deepObjects(20_000)}}`), 422],
  ['POST /endpoints: 20,000-deep objects in metadata', () => json('POST', '/endpoints', `{"tenantId":"a","url":"https://example.com/","metadata":${deepObjects(20_000)}}`), 422],
  ['POST /endpoints: 7,000-deep arrays in metadata (under 16 KiB)', () => json('POST', '/endpoints', `{"tenantId":"a","url":"https://example.com/","metadata":{"a":${deepArrays(7_000)}}}`), 422],
  ['POST /endpoints: 100-deep metadata (past MAX_JSON_DEPTH, tiny)', () => json('POST', '/endpoints', `{"tenantId":"a","url":"https://example.com/","metadata":${deepObjects(100)}}`), 422],
  ['PATCH /endpoints/:id: 20,000-deep arrays in metadata', () => json('PATCH', patchPath(), `{"metadata":{"a":${deepArrays(20_000)}}}`), 422],
  ['PUT /event-types/:name: 20,000-deep arrays in the schema', () => json('PUT', EVENT_TYPE_PATH, `{"schema":{"examples":${deepArrays(20_000)}}}`), 422],
  ['PUT /event-types/:name: a catastrophic pattern (ReDoS)', () => json('PUT', EVENT_TYPE_PATH, { schema: { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } } }), 422],
  ['PUT /event-types/:name: a catastrophic patternProperties key', () => json('PUT', EVENT_TYPE_PATH, { schema: { patternProperties: { '(x*)*y': { type: 'string' } } } }), 422],
  ['PUT /event-types/:name: 15,000-deep subschemas', () => json('PUT', EVENT_TYPE_PATH, `{"schema":${'{"not":'.repeat(15_000)}{}${'}'.repeat(15_000)}}`), 422],
  ['POST /endpoints/:id/test: 20,000-deep payload', () => json('POST', `/endpoints/${fixture.endpointId}/test`, `{"payload":{"a":${deepArrays(20_000)}}}`), 422],
  ['POST /events/:id/redeliver: NUL in endpointId', () => json('POST', `/events/${fixture.messageId}/redeliver`, { endpointId: 'ep_\u0000' }), 422],
  ['POST /endpoints/:id/secret/rotate: NUL in the secret', () => json('POST', `/endpoints/${fixture.endpointId}/secret/rotate`, { secret: 'whsec_\u0000' }), 422],
  ['POST /endpoints/:id/recover: SQL in since', () => json('POST', `/endpoints/${fixture.endpointId}/recover`, { since: SQL[0] }), 422],
  ['POST /events: duplicate keys, the last one invalid', () => json('POST', '/events', '{"tenantId":"a","tenantId":"no spaces","type":"x","payload":{}}'), 422],
  ['POST /events: __proto__ key in the body', () => json('POST', '/events', '{"tenantId":"a","type":"x","payload":{},"__proto__":{"polluted":true}}'), 422],

  // Wrong content types and encodings
  ['POST /events: text/plain', () => send('POST', '/events', JSON.stringify(validEvent()), { 'content-type': 'text/plain' }), 415],
  ['POST /events: application/x-www-form-urlencoded', () => send('POST', '/events', 'tenantId=a&type=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415],
  ['POST /events: multipart/form-data', () => send('POST', '/events', '--b\r\nContent-Disposition: form-data; name="tenantId"\r\n\r\na\r\n--b--\r\n', { 'content-type': 'multipart/form-data; boundary=b' }), 415],
  ['POST /events: no content-type at all', () => send('POST', '/events', Buffer.from(JSON.stringify(validEvent()))), 415],
  ['POST /events: application/json; charset=latin1', () => send('POST', '/events', latin1(JSON.stringify(validEvent())), { 'content-type': 'application/json; charset=latin1' }), 415],
  ['POST /events: application/json; charset=utf-99', () => send('POST', '/events', JSON.stringify(validEvent()), { 'content-type': 'application/json; charset=utf-99' }), 415],
  ['POST /events: content-type "json" (no type/subtype)', () => send('POST', '/events', JSON.stringify(validEvent()), { 'content-type': 'json' }), 415],
  ['POST /events: application/vnd.api+json', () => send('POST', '/events', JSON.stringify(validEvent()), { 'content-type': 'application/vnd.api+json' }), 415],
  ['PATCH /endpoints/:id: application/merge-patch+json', () => send('PATCH', patchPath(), '{"description":"x"}', { 'content-type': 'application/merge-patch+json' }), 415],
  ['PUT /event-types/:name: text/plain', () => send('PUT', EVENT_TYPE_PATH, '{}', { 'content-type': 'text/plain' }), 415],
  ['POST /events: Content-Encoding gzip over bytes that are not gzip', () => send('POST', '/events', 'not gzip at all', { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 400],
  ['POST /events: Content-Encoding deflate over bytes that are not deflate', () => send('POST', '/events', 'not deflate', { 'content-type': 'application/json', 'content-encoding': 'deflate' }), 400],
  ['POST /events: Content-Encoding compress (unsupported)', () => send('POST', '/events', '{}', { 'content-type': 'application/json', 'content-encoding': 'compress' }), 415],
  ['POST /events: gzip bomb (20 MB of zeros inflated)', () => send('POST', '/events', gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)), { 'content-type': 'application/json', 'content-encoding': 'gzip' }), 413],
  ['POST /endpoints: invalid UTF-8 bytes in a string field', () => send('POST', '/endpoints', Buffer.concat([Buffer.from('{"tenantId":"a","url":"https://example.com/","description":"'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('","secret":5}')]), { 'content-type': 'application/json' }), 422],

  // Huge strings (the body limit is MAX_PAYLOAD_BYTES + 64 KiB)
  ['POST /events: 1 MB body', () => json('POST', '/events', { ...validEvent(), payload: { big: 'x'.repeat(1_000_000) } }), 413],
  ['POST /events: body one byte over the body limit', () => json('POST', '/events', `{"tenantId":"a","type":"x","payload":{"a":"${'x'.repeat(BODY_LIMIT - 45)}"}}`), 413],
  ['POST /events: payload over MAX_PAYLOAD_BYTES but body under the limit', () => json('POST', '/events', { ...validEvent(), payload: { big: 'x'.repeat(MAX_PAYLOAD_BYTES + 10) } }), 413],
  ['POST /events: 100 KB tenantId', () => json('POST', '/events', { ...validEvent(), tenantId: 'a'.repeat(100_000) }), 422],
  ['POST /events: 100 KB type', () => json('POST', '/events', { ...validEvent(), type: 'a'.repeat(100_000) }), 422],
  ['POST /endpoints: 1 MB url', () => json('POST', '/endpoints', { ...validEndpoint(), url: `https://example.com/${'a'.repeat(1_000_000)}` }), 413],
  ['POST /endpoints: 100 KB url', () => json('POST', '/endpoints', { ...validEndpoint(), url: `https://example.com/${'a'.repeat(100_000)}` }), 422],
  ['POST /endpoints: 100 KB metadata', () => json('POST', '/endpoints', { ...validEndpoint(), metadata: { big: 'x'.repeat(100_000) } }), 422],
  ['PATCH /endpoints/:id: 100 KB description', () => json('PATCH', patchPath(), { description: 'd'.repeat(100_000) }), 422],
  ['PUT /event-types/:name: 1 MB description', () => json('PUT', EVENT_TYPE_PATH, { description: 'd'.repeat(1_000_000) }), 413],
  ['POST /endpoints: 5,000 event types', () => json('POST', '/endpoints', { ...validEndpoint(), eventTypes: Array.from({ length: 5_000 }, (_, i) => `t${i}`) }), 422],

  // Text Postgres cannot hold
  ['POST /endpoints: NUL in the description', () => json('POST', '/endpoints', { ...validEndpoint(), description: 'a\u0000b' }), 422],
  ['POST /endpoints: NUL in the url path', () => json('POST', '/endpoints', { ...validEndpoint(), url: 'https://example.com/a\u0000b' }), 422],
  ['POST /endpoints: NUL in a metadata value', () => json('POST', '/endpoints', { ...validEndpoint(), metadata: { a: 'x\u0000' } }), 422],
  ['POST /endpoints: NUL in a metadata key', () => json('POST', '/endpoints', { ...validEndpoint(), metadata: { 'a\u0000': 1 } }), 422],
  ['POST /endpoints: lone surrogate in a metadata value', () => json('POST', '/endpoints', { ...validEndpoint(), metadata: { a: '\ud800' } }), 422],
  ['POST /endpoints: lone surrogate in a header value', () => json('POST', '/endpoints', { ...validEndpoint(), headers: { 'x-a': '\udc00' } }), 422],
  ['POST /endpoints: emoji in a header value (undici refuses it at every attempt)', () => json('POST', '/endpoints', { ...validEndpoint(), headers: { 'x-a': '\ud83d\ude00' } }), 422],
  ['POST /endpoints: control character in a header value', () => json('POST', '/endpoints', { ...validEndpoint(), headers: { 'x-a': 'a\u0007b' } }), 422],
  ['POST /endpoints: hop-by-hop Upgrade header (undici refuses it at every attempt)', () => json('POST', '/endpoints', { ...validEndpoint(), headers: { Upgrade: 'websocket' } }), 422],
  ['POST /endpoints: Expect header (undici refuses it at every attempt)', () => json('POST', '/endpoints', { ...validEndpoint(), headers: { expect: '100-continue' } }), 422],
  ['PATCH /endpoints/:id: NUL in the description', () => json('PATCH', patchPath(), { description: '\u0000' }), 422],
  ['PATCH /endpoints/:id: lone surrogate in metadata key', () => json('PATCH', patchPath(), { metadata: { '\udfff': 1 } }), 422],
  ['PUT /event-types/:name: NUL in the description', () => json('PUT', EVENT_TYPE_PATH, { description: 'a\u0000' }), 422],
  ['PUT /event-types/:name: NUL in a schema string', () => json('PUT', EVENT_TYPE_PATH, { schema: { description: '\u0000' } }), 422],
  ['PUT /event-types/:name: lone surrogate in a schema key', () => json('PUT', EVENT_TYPE_PATH, { schema: { properties: { '\ud800': {} } } }), 422],

  // Schemas that break the validator
  ['PUT /event-types/:name: unresolvable $ref', () => json('PUT', EVENT_TYPE_PATH, { schema: { $ref: 'https://attacker.example/schema.json' } }), 422],
  ['PUT /event-types/:name: invalid regex in pattern', () => json('PUT', EVENT_TYPE_PATH, { schema: { type: 'string', pattern: '(' } }), 422],
  ['PUT /event-types/:name: unknown $schema dialect', () => json('PUT', EVENT_TYPE_PATH, { schema: { $schema: 'https://attacker.example/meta' } }), 422],

  // Query parameters
  ...SQL.map((sql): Case => [`GET /events?tenantId=${sql}`, () => send('GET', `/events?tenantId=${encodeURIComponent(sql)}`), 422]),
  ['GET /events?type= with SQL', () => send('GET', `/events?type=${encodeURIComponent(SQL[1]!)}`), 422],
  ['GET /events?status= with SQL', () => send('GET', `/events?status=${encodeURIComponent(SQL[0]!)}`), 422],
  ['GET /events?limit= with SQL', () => send('GET', `/events?limit=${encodeURIComponent('1; DROP TABLE messages')}`), 422],
  ['GET /events?cursor= with SQL', () => send('GET', `/events?cursor=${encodeURIComponent(SQL[0]!)}`), 422],
  ['GET /events?cursor= base64 of SQL', () => send('GET', `/events?cursor=${base64Cursor("s:1 OR 1=1")}`), 422],
  ['GET /events?cursor= a seq past bigint', () => send('GET', `/events?cursor=${base64Cursor('s:9999999999999999999')}`), 422],
  ['GET /endpoints?cursor= a seq past bigint', () => send('GET', `/endpoints?cursor=${base64Cursor('s:9223372036854775808')}`), 422],
  ['GET /events/:id/attempts?cursor= a seq past bigint', () => send('GET', `/events/${fixture.messageId}/attempts?cursor=${base64Cursor('s:9999999999999999999')}`), 422],
  ['GET /endpoints?tenantId= with SQL', () => send('GET', `/endpoints?tenantId=${encodeURIComponent(SQL[1]!)}`), 422],
  ['GET /endpoints?limit=1e309', () => send('GET', '/endpoints?limit=1e309'), 422],
  ['GET /endpoints?limit=-1', () => send('GET', '/endpoints?limit=-1'), 422],
  ['GET /endpoints?limit=1&limit=2 (repeated)', () => send('GET', '/endpoints?limit=1&limit=2'), 422],
  ['GET /endpoints?tenantId=a&tenantId=b (repeated)', () => send('GET', '/endpoints?tenantId=a&tenantId=b'), 422],
  ['GET /events?tenantId=%00', () => send('GET', '/events?tenantId=%00'), 422],
  ['GET /events?tenantId= invalid UTF-8', () => send('GET', '/events?tenantId=%ED%A0%80'), 422],
  ['GET /events?tenantId=% (bad escape)', () => send('GET', '/events?tenantId=%'), 422],
  ['GET /events/:id/attempts?status= with SQL', () => send('GET', `/events/${fixture.messageId}/attempts?status=${encodeURIComponent(SQL[1]!)}`), 422],
  ['GET /endpoints/:id/attempts?limit= with SQL', () => send('GET', `/endpoints/${fixture.endpointId}/attempts?limit=${encodeURIComponent(SQL[0]!)}`), 422],
  ['GET /endpoints/:id/attempts?cursor= 100 KB', () => send('GET', `/endpoints/${fixture.endpointId}/attempts?cursor=${'A'.repeat(12_000)}`), 422],

  // Path ids
  ['GET /events/:id with SQL', () => send('GET', `/events/${encodeURIComponent(SQL[0]!)}`), 404],
  ['GET /events/:id with NUL', () => send('GET', '/events/%00'), [404, 422]],
  ['GET /events/:id/attempts with NUL', () => send('GET', '/events/%00/attempts'), [404, 422]],
  ['GET /endpoints/:id/attempts with NUL', () => send('GET', '/endpoints/ep_%00/attempts'), [404, 422]],
  ['PATCH /endpoints/:id with NUL', () => json('PATCH', '/endpoints/%00', { description: 'x' }), [404, 422]],
  ['GET /events/:id with invalid UTF-8 (encoded lone surrogate)', () => send('GET', '/events/%ED%A0%80'), [404, 422]],
  ['GET /endpoints/:id with a bad escape', () => send('GET', '/endpoints/%E0%A4%A'), [404, 422]],
  ['PATCH /endpoints/:id with a bare %', () => json('PATCH', '/endpoints/%', { description: 'x' }), [404, 422]],
  ['PUT /event-types/:name with a bad escape', () => json('PUT', '/event-types/%ZZ', {}), [404, 422]],
  ['PUT /event-types/:name with NUL', () => json('PUT', '/event-types/a%00', {}), 422],
  ['GET /endpoints/:id: 300-character id', () => send('GET', `/endpoints/${'a'.repeat(300)}`), 422],
  ['GET /events/:id: ../ traversal, unnormalised', () => rawHttp('GET', '/events/../../etc/passwd', { authorization: `Bearer ${API_KEY}` }), 404],
  ['GET /events/:id: %2e%2e%2f traversal', () => send('GET', '/events/..%2F..%2Fetc%2Fpasswd'), 404],
  ['PATCH /endpoints/:id: %2e%2e id', () => json('PATCH', '/endpoints/%2e%2e', { description: 'x' }), 404],
  ['PUT /event-types/:name: ..%2F traversal', () => json('PUT', '/event-types/..%2Fetc', {}), 422],
  ['GET /docs/assets: traversal to package.json', () => rawHttp('GET', '/docs/assets/../../package.json', {}), 404],
  ['GET /docs/assets: encoded traversal to package.json', () => send('GET', '/docs/assets/..%2F..%2F..%2Fpackage.json'), 404],

  // Headers
  ['POST /events: Idempotency-Key with SQL', () => json('POST', '/events', validEvent(), { 'idempotency-key': SQL[0]! }), 422],
  ['POST /events: Idempotency-Key of Latin-1 bytes', () => rawHttp('POST', '/events', { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'idempotency-key': '\u00e9\u00ff' }, JSON.stringify(validEvent())), 422],
  ['POST /events: Idempotency-Key of 10 KB', () => json('POST', '/events', validEvent(), { 'idempotency-key': 'k'.repeat(10_000) }), 422],
  ['POST /events: 15 KB Authorization header', () => json('POST', '/events', validEvent(), { authorization: `Bearer ${'k'.repeat(15_000)}` }), 401],
  ['POST /events: Basic instead of Bearer', () => json('POST', '/events', validEvent(), { authorization: `Basic ${Buffer.from(`user:${API_KEY}`).toString('base64')}` }), 401],
  ['POST /events: the key with one character more', () => json('POST', '/events', validEvent(), { authorization: `Bearer ${API_KEY}x` }), 401],
];

describe('named hostile cases: a 4xx in the contract shape, nothing stored', () => {
  it.each(namedCases)('%s', async (_name, request, expected) => {
    const response = await attempt(request);
    expect(response.status >= 400, JSON.stringify(response.body)).toBe(true);
    expect(([] as number[]).concat(expected), JSON.stringify(response.body)).toContain(response.status);
  });
});

// ---------------------------------------------------------------------------------------------------
// Every field, every wrong JSON type

const KINDS = { string: 'x', number: 7, boolean: true, null: null, array: [], object: {} } as const;
type Kind = keyof typeof KINDS;

type BodyRoute = { route: string; send: (body: unknown) => Promise<ApiResponse>; base: () => Record<string, unknown>; fields: Record<string, Kind[]> };

const bodyRoutes: BodyRoute[] = [
  {
    route: 'POST /events',
    send: (body) => json('POST', '/events', body),
    base: validEvent,
    fields: { tenantId: ['string'], type: ['string'], payload: ['object'], id: ['string'], channels: ['array'] },
  },
  {
    route: 'POST /endpoints',
    send: (body) => json('POST', '/endpoints', body),
    base: validEndpoint,
    fields: {
      tenantId: ['string'], url: ['string'], description: ['string'], eventTypes: ['array'], channels: ['array'], secret: ['string'],
      headers: ['object'], disabled: ['boolean'], rateLimitPerSecond: ['number', 'null'], retrySchedule: ['array', 'null'], metadata: ['object'],
    },
  },
  {
    route: 'PATCH /endpoints/:id',
    send: (body) => json('PATCH', patchPath(), body),
    base: () => ({ description: 'patched' }),
    // tenantId and secret cannot be patched: every value is refused.
    fields: {
      url: ['string'], description: ['string'], eventTypes: ['array'], channels: ['array'], headers: ['object'], disabled: ['boolean'],
      rateLimitPerSecond: ['number', 'null'], retrySchedule: ['array', 'null'], metadata: ['object'], tenantId: [], secret: [],
    },
  },
  {
    route: 'PUT /event-types/:name',
    send: (body) => json('PUT', EVENT_TYPE_PATH, body),
    base: () => ({ description: 'hostile' }),
    fields: { description: ['string'], schema: ['object'] },
  },
];

const wrongTypeCases = bodyRoutes.flatMap((r) =>
  Object.entries(r.fields).map(([field, kinds]) => {
    const wrong = (Object.keys(KINDS) as Kind[]).filter((kind) => !kinds.includes(kind));
    return [`${r.route}: ${field} as ${wrong.join(', ')}`, r, field, wrong] as const;
  }),
);

describe('wrong JSON types, field by field: 422 naming the field, nothing stored', () => {
  it.each(wrongTypeCases)('%s', async (_name, r, field, wrong) => {
    for (const kind of wrong) {
      const response = await attempt(() => r.send({ ...r.base(), [field]: KINDS[kind] }));
      expect(response.status, `${field} as ${kind}`).toBe(422);
      expect(response.body.error.details.map((d: { path: string }) => d.path)).toContainEqual(expect.stringMatching(new RegExp(`^body(\\.${field}(\\.|$)|$)`)));
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Odd text in every string field, query parameter and path id

type Slot = {
  name: string;
  request: (text: string) => Promise<ApiResponse>;
  /** Postgres text/jsonb keeps it: NUL and lone surrogates must be refused, not turned into a 500 or a U+FFFD. */
  stored: boolean;
  /** Reads back what was stored, for fields whose text is kept as given. */
  readBack?: (response: ApiResponse) => Promise<unknown>;
};

const getEvent = async (r: ApiResponse) => (await stack.request('GET', `/events/${r.body.id}`)).body;
const stringSlots: Slot[] = [
  { name: 'POST /events tenantId', request: (t) => json('POST', '/events', { ...validEvent(), tenantId: t }), stored: true },
  { name: 'POST /events type', request: (t) => json('POST', '/events', { ...validEvent(), type: t }), stored: true },
  { name: 'POST /events id', request: (t) => json('POST', '/events', { ...validEvent(), id: t }), stored: true },
  { name: 'POST /events channels[0]', request: (t) => json('POST', '/events', { ...validEvent(), channels: [t] }), stored: true },
  // The payload is a `json` column: it keeps any JSON string, NUL and lone surrogates included, exactly.
  { name: 'POST /events payload value', request: (t) => json('POST', '/events', { ...validEvent(), payload: { v: t } }), stored: false, readBack: async (r) => (await getEvent(r)).payload.v },
  { name: 'POST /events payload key', request: (t) => json('POST', '/events', { ...validEvent(), payload: { [t]: 1 } }), stored: false, readBack: async (r) => Object.keys((await getEvent(r)).payload)[0] },
  // fetch sends only ByteStrings: the header gets the text's visible ASCII (Latin-1 bytes are a named case).
  { name: 'POST /events Idempotency-Key', request: (t) => json('POST', '/events', validEvent(), { 'idempotency-key': t.replace(/[^\x21-\x7e]/g, '') || '!' }), stored: false },
  { name: 'POST /endpoints tenantId', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), tenantId: t }), stored: true },
  { name: 'POST /endpoints url path', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), url: `https://example.com/${t}` }), stored: true },
  { name: 'POST /endpoints url host', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), url: `https://${t}.example.com/` }), stored: true },
  { name: 'POST /endpoints description', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), description: t }), stored: true, readBack: async (r) => r.body.description },
  { name: 'POST /endpoints eventTypes[0]', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), eventTypes: [t] }), stored: true },
  { name: 'POST /endpoints channels[0]', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), channels: [t] }), stored: true },
  { name: 'POST /endpoints secret', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), secret: `whsec_${t}` }), stored: true },
  { name: 'POST /endpoints header name', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), headers: { [t]: 'v' } }), stored: true },
  { name: 'POST /endpoints header value', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), headers: { 'x-h': t } }), stored: true, readBack: async (r) => r.body.headers['x-h'] },
  { name: 'POST /endpoints retrySchedule[0]', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), retrySchedule: [t] }), stored: true },
  { name: 'POST /endpoints metadata key', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), metadata: { [t]: 1 } }), stored: true, readBack: async (r) => Object.keys(r.body.metadata)[0] },
  { name: 'POST /endpoints metadata value', request: (t) => json('POST', '/endpoints', { ...validEndpoint(), metadata: { m: [t] } }), stored: true, readBack: async (r) => r.body.metadata.m[0] },
  { name: 'PATCH /endpoints/:id description', request: (t) => json('PATCH', patchPath(), { description: t }), stored: true, readBack: async (r) => r.body.description },
  { name: 'PATCH /endpoints/:id url', request: (t) => json('PATCH', patchPath(), { url: `https://example.com/${t}` }), stored: true },
  { name: 'PATCH /endpoints/:id metadata value', request: (t) => json('PATCH', patchPath(), { metadata: { m: t } }), stored: true, readBack: async (r) => r.body.metadata.m },
  { name: 'PATCH /endpoints/:id eventTypes[0]', request: (t) => json('PATCH', patchPath(), { eventTypes: [t] }), stored: true },
  { name: 'PUT /event-types/:name description', request: (t) => json('PUT', EVENT_TYPE_PATH, { description: t }), stored: true, readBack: async (r) => r.body.description },
  { name: 'PUT /event-types/:name schema string', request: (t) => json('PUT', EVENT_TYPE_PATH, { schema: { description: t } }), stored: true, readBack: async (r) => r.body.schema.description },
  { name: 'PUT /event-types/:name schema key', request: (t) => json('PUT', EVENT_TYPE_PATH, { schema: { properties: { [t]: { type: 'string' } } } }), stored: true, readBack: async (r) => Object.keys(r.body.schema.properties)[0] },
  { name: 'PUT /event-types/:name path name', request: (t) => json('PUT', `/event-types/n${percentBytes(Buffer.from(t))}`, {}), stored: true },
];

const LIST_QUERIES: [path: () => string, params: string[]][] = [
  [() => '/events', ['tenantId', 'type', 'status', 'limit', 'cursor']],
  [() => '/endpoints', ['tenantId', 'limit', 'cursor']],
  [() => `/events/${fixture.messageId}/attempts`, ['status', 'limit', 'cursor']],
  [() => `/endpoints/${fixture.endpointId}/attempts`, ['status', 'limit', 'cursor']],
  [() => `/events/${fixture.messageId}/deliveries`, ['status', 'limit', 'cursor']],
];
const querySlots = LIST_QUERIES.flatMap(([path, params]) => params.map((param) => ({ path, param })));
const PATH_ID_ROUTES: [method: string, path: (id: string) => string][] = [
  ['GET', (id) => `/events/${id}`],
  ['GET', (id) => `/events/${id}/attempts`],
  ['GET', (id) => `/endpoints/${id}`],
  ['PATCH', (id) => `/endpoints/${id}`],
  ['GET', (id) => `/endpoints/${id}/attempts`],
  ['GET', (id) => `/endpoints/${id}/stats`],
  ['GET', (id) => `/events/${id}/deliveries`],
  ['GET', (id) => `/attempts/${id}`],
  ['DELETE', (id) => `/portal/sessions/${id}`],
];

describe('NUL, lone surrogates and odd Unicode in each string field', () => {
  const ODD: [string, string][] = [['NUL', 'a\u0000b'], ['lone high surrogate', 'a\ud800b'], ['lone low surrogate', '\udc00'], ['RLO and BOM', '\u202e\ufeffx'], ['emoji', '\ud83d\ude00']];
  it.each(stringSlots.map((slot) => [slot.name, slot] as const))('%s', async (_name, slot) => {
    for (const [what, text] of ODD) {
      const response = await attempt(() => slot.request(text));
      if (slot.stored && UNSTORABLE.test(text)) expect(response.status, what).toBe(422);
      if (response.status < 300 && slot.readBack) expect(await slot.readBack(response), what).toBe(text);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Giant headers, secrets, __proto__, $id

describe('beyond the table', () => {
  it('a 50 KB header is refused before Express: 431 in the contract shape', async () => {
    const before = await snapshot();
    const response = await rawHttp('POST', '/events', { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'x-padding': 'p'.repeat(50_000) }, JSON.stringify(validEvent()));
    expect(response.status).toBe(431);
    expect(JSON.parse(response.text)).toEqual({ error: { code: 'headers_too_large', message: expect.any(String) } });
    expect(await snapshot()).toEqual(before);
  });

  it('a 50 KB query string is a 431 too (the request line counts toward the header limit)', async () => {
    const response = await rawHttp('GET', `/events?tenantId=${'a'.repeat(50_000)}`, { authorization: `Bearer ${API_KEY}` });
    expect(response.status).toBe(431);
    expect(JSON.parse(response.text).error.code).toBe('headers_too_large');
  });

  it('a 50 KB Authorization header is a 431 that does not echo it', async () => {
    const key = `k${'0123456789'.repeat(5_000)}`;
    const response = await rawHttp('GET', '/events', { authorization: `Bearer ${key}` });
    expect(response.status).toBe(431);
    expect(response.text).not.toContain(key.slice(0, 32));
  });

  it('a wrong key, a refused secret and the real key never come back in an error', async () => {
    const wrongKey = `wrong-${'s3cr3t'.repeat(4)}`;
    const shortSecret = `whsec_${Buffer.alloc(16, 7).toString('base64')}`;
    const goodSecret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const checks: [() => Promise<ApiResponse>, string[]][] = [
      [() => json('GET', '/events', undefined, { authorization: `Bearer ${wrongKey}` }), [wrongKey]],
      [() => json('POST', '/endpoints', { ...validEndpoint(), secret: shortSecret }), [shortSecret, shortSecret.slice(6)]],
      [() => json('POST', '/endpoints', { ...validEndpoint(), secret: goodSecret, url: 'ftp://nope/' }), [goodSecret, goodSecret.slice(6)]],
      [() => json('PATCH', patchPath(), { secret: goodSecret }), [goodSecret, goodSecret.slice(6)]],
      [() => json('POST', `/endpoints/${fixture.endpointId}/secret/rotate`, { secret: shortSecret }), [shortSecret]],
      [() => json('POST', '/events', { ...validEvent(), tenantId: 'not valid', type: API_KEY }, { authorization: `Bearer ${API_KEY}` }), []],
    ];
    for (const [request, secrets] of checks) {
      const response = await attempt(request, secrets);
      expect(response.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('"__proto__" keys pollute nothing, in this process or in what is stored', async () => {
    const body = `{"tenantId":"proto","url":"https://example.com/","metadata":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}},"headers":{"__proto__":"x"}}`;
    const response = await attempt(() => json('POST', '/endpoints', body));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    if (response.status === 201) {
      const stored = (await stack.db.query('SELECT metadata, headers FROM endpoints WHERE id = $1', [response.body.id])).rows[0];
      expect(Object.getPrototypeOf(stored.metadata)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it('event-type schemas that share an $id: PUT replaces, each type keeps its own, POST /events checks each', async () => {
    const id = 'https://schemas.example/order';
    const stringSchema = { $id: id, type: 'object', required: ['n'], properties: { n: { $ref: `${id}#/$defs/n` } }, $defs: { n: { type: 'string' } } };
    const numberSchema = { ...stringSchema, $defs: { n: { type: 'number' } } };
    expect((await json('PUT', '/event-types/ids.a', { schema: stringSchema })).status).toBe(201);
    expect((await json('POST', '/events', { tenantId: 'ids', type: 'ids.a', payload: { n: 'x' } })).status).toBe(202);
    expect((await json('PUT', '/event-types/ids.a', { schema: stringSchema })).status).toBe(200);
    expect((await json('PUT', '/event-types/ids.b', { schema: numberSchema })).status).toBe(201);
    expect((await attempt(() => json('POST', '/events', { tenantId: 'ids', type: 'ids.b', payload: { n: 'x' } }))).status).toBe(422);
    expect((await json('POST', '/events', { tenantId: 'ids', type: 'ids.b', payload: { n: 1 } })).status).toBe(202);
    expect((await json('PUT', '/event-types/ids.a', { schema: numberSchema })).status).toBe(200);
    expect((await attempt(() => json('POST', '/events', { tenantId: 'ids', type: 'ids.a', payload: { n: 'x' } }))).status).toBe(422);
    expect((await json('POST', '/events', { tenantId: 'ids', type: 'ids.a', payload: { n: 2 } })).status).toBe(202);
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

const RUNS = { numRuns: 100 };
const bodyRoute = fc.constantFrom(...bodyRoutes);

describe('properties', () => {
  it('any JSON document as a body: accepted, or refused in the contract shape with nothing stored', async () => {
    await fc.assert(
      fc.asyncProperty(bodyRoute, fc.json({ maxDepth: 4 }), async (r, text) => {
        await attempt(() => r.send(text));
      }),
      { numRuns: 100 },
    );
  });

  it('any text, odd Unicode and all, declared as JSON: 400/422, never more', async () => {
    await fc.assert(
      fc.asyncProperty(bodyRoute, fc.oneof(oddString, fc.string({ unit: 'binary', maxLength: 200 })), async (r, text) => {
        const response = await attempt(() => r.send(text));
        if (response.status >= 400) expect([400, 422]).toContain(response.status);
      }),
      RUNS,
    );
  });

  it('truncated JSON: every proper prefix of a valid body is a 400', async () => {
    const bodies = fc.oneof(
      fc.record({ r: fc.constant(bodyRoutes[0]!), body: fc.record({ tenantId: fc.constant('t'), type: fc.constant('a.b'), payload: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })) }) }),
      fc.record({ r: fc.constant(bodyRoutes[1]!), body: fc.record({ tenantId: fc.constant('t'), url: fc.webUrl(), description: fc.string() }) }),
      fc.record({ r: fc.constant(bodyRoutes[2]!), body: fc.record({ description: fc.string(), metadata: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })) }) }),
      fc.record({ r: fc.constant(bodyRoutes[3]!), body: fc.record({ description: fc.string(), schema: fc.constant({ type: 'object' }) }) }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, fc.double({ min: 0, max: 1, noNaN: true }), async ({ r, body }, at) => {
        const text = JSON.stringify(body);
        const cut = 1 + Math.floor(at * (text.length - 2));
        const response = await attempt(() => r.send(text.slice(0, cut)));
        expect(response.status).toBe(400);
      }),
      RUNS,
    );
  });

  it('a wrong JSON type in any field: 422 naming that field', async () => {
    const cases = bodyRoute.chain((r) =>
      fc.constantFrom(...Object.keys(r.fields)).chain((field) =>
        fc.jsonValue({ maxDepth: 2 })
          .filter((value) => !r.fields[field]!.includes(kindOf(value)))
          .map((value) => ({ r, field, value })),
      ),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ r, field, value }) => {
        const response = await attempt(() => r.send({ ...r.base(), [field]: value }));
        expect(response.status).toBe(422);
        expect(response.body.error.details.map((d: { path: string }) => d.path)).toContainEqual(expect.stringMatching(new RegExp(`^body(\\.${field}(\\.|$)|$)`)));
      }),
      RUNS,
    );
  });

  it('odd text in any string field: stored exactly, or refused with 422; NUL and lone surrogates never reach Postgres', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...stringSlots), oddString, async (slot, text) => {
        const response = await attempt(() => slot.request(text));
        if (response.status >= 400) expect(response.status).toBe(422);
        if (slot.stored && UNSTORABLE.test(text)) expect(response.status).toBe(422);
        if (response.status < 300 && slot.readBack) expect(await slot.readBack(response)).toBe(text);
      }),
      { numRuns: 100 },
    );
  });

  it('odd text and SQL in any list query parameter: a page or a 422', async () => {
    const value = fc.oneof(oddString, fc.constantFrom(...SQL), fc.integer().map(String), fc.string({ unit: 'binary' }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...querySlots), value, fc.boolean(), async ({ path, param }, text, asBytes) => {
        // encodeURIComponent throws on a lone surrogate; the byte path sends its UTF-8 replacement instead.
        const encoded = asBytes ? percentBytes(Buffer.from(text)) : encodeURIComponent(text.replace(new RegExp(UNSTORABLE.source, 'g'), ''));
        const response = await attempt(() => send('GET', `${path()}?${param}=${encoded}`));
        if (response.status < 300) {
          expect(response.status).toBe(200);
          expect(Array.isArray(response.body.data)).toBe(true);
        } else {
          expect(response.status).toBe(422);
        }
      }),
      RUNS,
    );
  });

  it('any bytes as a path id, invalid UTF-8 included: 404 or 422', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATH_ID_ROUTES), fc.uint8Array({ minLength: 1, maxLength: 300 }), async ([method, path], bytes) => {
        // Sent as is: fetch would turn the dot segments `%2E` and `%2E%2E` into `/events/` or `/`.
        const body = method === 'PATCH' ? JSON.stringify({ description: 'x' }) : undefined;
        const headers = { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) };
        const response = await attempt(() => rawHttp(method, path(percentBytes(bytes)), headers, body));
        expect([404, 422]).toContain(response.status);
      }),
      // The dot segments always, on every route (a run once drew "." and found fetch sending the list).
      { ...RUNS, examples: PATH_ID_ROUTES.flatMap((route) => [[route, Uint8Array.from([46])], [route, Uint8Array.from([46, 46])]] as [typeof route, Uint8Array][]) },
    );
  });

  it('a secret or key sent with a refused request never comes back', async () => {
    const secret = fc.uint8Array({ minLength: 8, maxLength: 80 }).map((bytes) => `whsec_${Buffer.from(bytes).toString('base64')}`);
    const spoil = fc.constantFrom<Record<string, unknown>>({ url: 'nope' }, { tenantId: 'a b' }, { retrySchedule: ['soon'] }, { headers: { host: 'x' } }, { disabled: 'yes' }, {});
    await fc.assert(
      fc.asyncProperty(secret, spoil, fc.string({ minLength: 12, unit: 'grapheme-ascii' }), async (s, bad, key) => {
        const token = `tok_${key.replace(/[^\x21-\x7e]/g, '')}`;
        const refused = await attempt(() => json('POST', '/endpoints', { ...validEndpoint(), secret: s, ...bad }), [s, s.slice(6)]);
        if (refused.status === 201) expect(refused.body).not.toHaveProperty('secret');
        const unauthorized = await attempt(() => json('POST', '/events', validEvent(), { authorization: `Bearer ${token}` }), [token]);
        expect(unauthorized.status).toBe(401);
      }),
      RUNS,
    );
  });
});

function kindOf(value: unknown): Kind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as Kind;
}
