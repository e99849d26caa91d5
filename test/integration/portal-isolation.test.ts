import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, waitFor } from '../support/receiver';
import { API_KEY, buildEvent, startTestStack, uniqueTenant, type ApiResponse, type TestStack } from '../support/stack';
import { deliveryWorkflowId } from '../../workflows/ids';

/**
 * Customer portal tokens (issue 12 §1): a token of tenant A reaches nothing of tenant B. The matrix is
 * generated from GET /openapi.json, so a route added later is in it without anyone writing a case, and
 * its expectation comes from what the contract says a portal token may do.
 */
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

type Operation = { method: string; path: string; access: 'read' | 'write' | 'forbidden'; params: string[]; tenantInQuery: boolean; tenantInBody: boolean };
type Tenant = { tenantId: string; endpointId: string; secret: string; messageId: string; attemptId: string; token: string };

let stack: TestStack;
let receiver: Receiver;
let operations: Operation[];
let a: Tenant;
let b: Tenant;
/** Text that only B's data contains; none of it may reach A, whatever A sends. */
const B_MARKERS = { payload: `b-payload-${Date.now()}`, response: `b-response-${Date.now()}`, path: '/tenant-b-only' };

async function withToken(token: string, method: string, path: string, body?: unknown): Promise<ApiResponse & { text: string }> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: the text is checked as it is
  }
  return { status: response.status, body: parsed, headers: response.headers, text };
}

async function openSession(tenantId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const session = await stack.request('POST', '/portal/sessions', { tenantId, ...extra });
  expect(session.status).toBe(201);
  return session.body.token;
}

/** A tenant with one endpoint, one delivered event and its attempt, and a portal token. */
async function seedTenant(prefix: string, urlPath: string, payload: Record<string, unknown>): Promise<Tenant> {
  const tenantId = uniqueTenant(prefix);
  const endpoint = await stack.request('POST', '/endpoints', { tenantId, url: receiver.url(urlPath), description: `${prefix} endpoint` });
  expect(endpoint.status).toBe(201);
  const secret = (await stack.request('GET', `/endpoints/${endpoint.body.id}/secret`)).body.secret;
  const sent = await stack.request('POST', '/events', buildEvent({ tenantId, payload }));
  expect(sent.status).toBe(202);
  const attempts = await waitFor(async () => {
    const event = (await stack.request('GET', `/events/${sent.body.id}`)).body;
    if (event.deliveries[0]?.status !== 'succeeded') return undefined;
    return (await stack.request('GET', `/events/${sent.body.id}/attempts`)).body.data;
  }, `${prefix}'s delivery`);
  return { tenantId, endpointId: endpoint.body.id, secret, messageId: sent.body.id, attemptId: attempts[0].id, token: await openSession(tenantId) };
}

/** Every authenticated operation of the OpenAPI document, with what it says a portal token may do. */
async function documentedOperations(): Promise<Operation[]> {
  const document = (await stack.request('GET', '/openapi.json')).body;
  const resolve = (schema: any): any => (schema?.$ref ? document.components.schemas[schema.$ref.split('/').pop()] : schema);
  const found: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op || (op.security ?? []).length === 0) continue;
      const parameters: any[] = op.parameters ?? [];
      const bodySchema = resolve(op.requestBody?.content?.['application/json']?.schema);
      found.push({
        method: method.toUpperCase(),
        path,
        access: op['x-hookflow-portal'],
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        tenantInQuery: parameters.some((p) => p.in === 'query' && p.name === 'tenantId'),
        tenantInBody: Boolean(bodySchema?.properties?.tenantId),
      });
    }
  }
  return found;
}

/** The path with each parameter set to `owner`'s resource of the kind the path names. */
function fillPath(op: Operation, owner: Tenant, fresh?: string): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (name === 'token') return owner.token;
    if (name === 'name') return 'sync.completed';
    if (op.path.startsWith('/events/')) return owner.messageId;
    if (op.path.startsWith('/attempts/')) return owner.attemptId;
    return fresh ?? owner.endpointId;
  });
}

/** A body the route accepts from its own tenant, so a refusal means isolation, not bad input. */
function sampleBody(op: Operation, tenantId: string): unknown {
  const key = `${op.method} ${op.path}`;
  const samples: Record<string, unknown> = {
    'POST /endpoints': { tenantId, url: receiver.url('/created-by-portal') },
    'PATCH /endpoints/{id}': { description: 'changed through the portal' },
    'POST /endpoints/{id}/recover': { since: new Date(Date.now() - 3_600_000).toISOString() },
    'POST /events': buildEvent({ tenantId }),
    'PUT /event-types/{name}': { description: 'changed through the portal' },
    'POST /portal/sessions': { tenantId },
    'POST /filters/test': { filter: { type: 'sync.completed' }, event: { type: 'sync.completed', tenantId } },
  };
  if (key in samples) return samples[key];
  return op.method === 'GET' || op.method === 'DELETE' ? undefined : {};
}

function withQuery(path: string, op: Operation, tenantId: string | undefined): string {
  return op.tenantInQuery && tenantId !== undefined ? `${path}?tenantId=${tenantId}` : path;
}

/** Whatever A sent, the answer holds nothing of B's: not its secret, payload, receiver's words or URL, nor ids A did not send. */
function expectNothingOfB(response: { text: string }, sent: string, what: string): void {
  for (const marker of [b.secret, B_MARKERS.payload, B_MARKERS.response, B_MARKERS.path]) expect(response.text, what).not.toContain(marker);
  for (const id of [b.tenantId, b.endpointId, b.messageId, b.attemptId, b.token]) {
    if (!sent.includes(id)) expect(response.text, what).not.toContain(id);
  }
}

/** Every row of B's, as text: before and after anything A does, they must be equal. */
async function snapshotOfB(): Promise<string> {
  const queries = [
    'SELECT * FROM endpoints WHERE tenant_id = $1 ORDER BY id',
    'SELECT * FROM messages WHERE tenant_id = $1 ORDER BY id',
    'SELECT d.* FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.tenant_id = $1 ORDER BY d.message_id, d.endpoint_id',
    'SELECT a.* FROM attempts a JOIN messages m ON m.id = a.message_id WHERE m.tenant_id = $1 ORDER BY a.id',
    'SELECT * FROM portal_sessions WHERE tenant_id = $1 ORDER BY id',
  ];
  const results = await Promise.all(queries.map((sql) => stack.db.query(sql, [b.tenantId])));
  return JSON.stringify(results.map((r) => r.rows));
}

async function waitForIdle(): Promise<void> {
  await waitFor(async () => {
    const { rows } = await stack.db.query("SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending'");
    return rows[0].n === 0;
  }, 'no delivery pending');
}

beforeAll(async () => {
  receiver = await Receiver.start((r) => ({ status: 200, body: r.path === B_MARKERS.path ? B_MARKERS.response : 'ok' }));
  // No ingest limit: the property sends a few hundred requests with one token; 429 is tested elsewhere.
  stack = await startTestStack({ INGEST_RATE_LIMIT: '0', RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '1s' });
  [a, b] = await Promise.all([seedTenant('a', '/tenant-a', { a: 1 }), seedTenant('b', B_MARKERS.path, { marker: B_MARKERS.payload })]);
  operations = await documentedOperations();
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

describe('the OpenAPI document says what a portal token may do on each route', () => {
  it('as the contract lists it', () => {
    const access = Object.fromEntries(operations.map((op) => [`${op.method} ${op.path}`, op.access]));
    expect(access).toMatchObject({
      'GET /endpoints': 'read',
      'POST /endpoints': 'write',
      'GET /endpoints/{id}': 'read',
      'PATCH /endpoints/{id}': 'write',
      'DELETE /endpoints/{id}': 'write',
      'GET /endpoints/{id}/secret': 'write',
      'POST /endpoints/{id}/secret/rotate': 'write',
      'POST /endpoints/{id}/test': 'write',
      'POST /endpoints/{id}/recover': 'write',
      'GET /endpoints/{id}/attempts': 'read',
      'GET /endpoints/{id}/stats': 'read',
      'GET /events': 'read',
      'GET /events/{id}': 'read',
      'GET /events/{id}/attempts': 'read',
      'GET /events/{id}/deliveries': 'read',
      'POST /events/{id}/redeliver': 'write',
      'GET /attempts/{id}': 'read',
      'GET /event-types': 'read',
      'GET /me': 'read',
      'POST /filters/test': 'read',
      'POST /events': 'forbidden',
      'PUT /event-types/{name}': 'forbidden',
      'POST /portal/sessions': 'forbidden',
      'DELETE /portal/sessions/{token}': 'forbidden',
    });
    // Every authenticated route says something: a route without a word would be forbidden, and listed as such.
    for (const op of operations) expect(['read', 'write', 'forbidden'], `${op.method} ${op.path}`).toContain(op.access);
  });
});

describe("tenant A's token against tenant B", () => {
  it("every route: B's resources are 404 (403 where the portal may not act), never 2xx, and B's rows do not change", async () => {
    await waitForIdle();
    const before = await snapshotOfB();
    expect(operations.length).toBeGreaterThan(20);
    for (const op of operations) {
      const path = withQuery(fillPath(op, b), op, b.tenantId);
      const body = sampleBody(op, b.tenantId);
      const response = await withToken(a.token, op.method, path, body);
      const what = `${op.method} ${path} → ${response.status} ${response.text.slice(0, 200)}`;
      const touchesB = op.params.length > 0 || op.tenantInQuery || op.tenantInBody;
      if (op.access === 'forbidden') expect(response.status, what).toBe(403);
      else if (touchesB) expect(response.status, what).toBe(404);
      else expect(response.status, what).toBe(200);
      expect(response.body?.error?.code ?? 'ok', what).toBe(response.status === 403 ? 'forbidden' : response.status === 404 ? 'not_found' : 'ok');
      expectNothingOfB(response, `${path} ${JSON.stringify(body)}`, what);
    }
    await waitForIdle();
    expect(await snapshotOfB()).toBe(before);
  });

  it("every route the portal may use works on A's own resources", async () => {
    for (const op of operations) {
      let fresh: string | undefined;
      if (op.method === 'DELETE' && op.path === '/endpoints/{id}') {
        fresh = (await stack.request('POST', '/endpoints', { tenantId: a.tenantId, url: receiver.url('/to-delete') })).body.id;
      }
      // Redelivery needs the previous delivery workflow of the message to have ended (else 409, by contract).
      if (op.path === '/events/{id}/redeliver') await stack.temporal.workflow.getHandle(deliveryWorkflowId(a.messageId, a.endpointId)).result();
      const path = withQuery(fillPath(op, a, fresh), op, a.tenantId);
      const response = await withToken(a.token, op.method, path, sampleBody(op, a.tenantId));
      const what = `${op.method} ${path} → ${response.status} ${response.text.slice(0, 200)}`;
      if (op.access === 'forbidden') expect(response.status, what).toBe(403);
      else expect(response.status, what).toBeGreaterThanOrEqual(200);
      if (op.access !== 'forbidden') expect(response.status, what).toBeLessThan(300);
      expectNothingOfB(response, path, what);
    }
  });

  it('lists show only A, and a tenantId of another tenant in the query or body is 404', async () => {
    const endpoints = await withToken(a.token, 'GET', '/endpoints');
    expect(endpoints.status).toBe(200);
    expect(endpoints.body.data.length).toBeGreaterThan(0);
    expect(new Set(endpoints.body.data.map((e: any) => e.tenantId))).toEqual(new Set([a.tenantId]));
    const events = await withToken(a.token, 'GET', '/events');
    expect(new Set(events.body.data.map((e: any) => e.tenantId))).toEqual(new Set([a.tenantId]));
    expect((await withToken(a.token, 'GET', `/events?tenantId=${a.tenantId}`)).status).toBe(200);

    for (const [method, path, body] of [
      ['GET', `/endpoints?tenantId=${b.tenantId}`, undefined],
      ['GET', `/events?tenantId=${b.tenantId}`, undefined],
      ['GET', `/events?tenantId=${a.tenantId}&tenantId=${b.tenantId}`, undefined],
      ['GET', `/events/${a.messageId}/deliveries?tenantId=${b.tenantId}`, undefined],
      ['POST', '/endpoints', { tenantId: b.tenantId, url: receiver.url('/x') }],
      ['PATCH', `/endpoints/${a.endpointId}`, { tenantId: b.tenantId }],
      ['POST', `/events/${a.messageId}/redeliver`, { endpointId: b.endpointId }],
    ] as const) {
      const response = await withToken(a.token, method, path, body);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    const created = await withToken(a.token, 'POST', '/endpoints', { url: receiver.url('/no-tenant-given') });
    expect(created.status).toBe(201);
    expect(created.body.tenantId).toBe(a.tenantId);
  });

  it('a fast-check property: no sequence of requests with A\'s token changes or reveals anything of B', async () => {
    await waitForIdle();
    const before = await snapshotOfB();
    // An endpoint of A's own for the property to change and delete, so the other tests keep theirs.
    const own = (await stack.request('POST', '/endpoints', { tenantId: a.tenantId, url: receiver.url('/prop') })).body.id;
    const idPool = () => [own, a.messageId, a.attemptId, b.endpointId, b.messageId, b.attemptId, b.token, a.token, 'ep_nope', '..', '%2e'];
    const request = fc.record({
      op: fc.constantFrom(...operations),
      id: fc.constantFrom(...idPool()),
      tenant: fc.constantFrom<string | undefined>(undefined, a.tenantId, b.tenantId),
      body: fc.oneof(
        fc.constant<unknown>(undefined),
        fc.record({ tenantId: fc.constantFrom(a.tenantId, b.tenantId), url: fc.constant(receiver.url('/prop')) }, { requiredKeys: [] }),
        fc.record({ endpointId: fc.constantFrom(a.endpointId, b.endpointId) }),
        fc.record({ description: fc.string({ maxLength: 20 }), disabled: fc.boolean() }, { requiredKeys: [] }),
        fc.record({ since: fc.constant(new Date(Date.now() - 86_400_000).toISOString()) }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 8 }), async (requests) => {
        for (const r of requests) {
          const path = r.op.path.replace(/\{\w+\}/g, encodeURIComponent(r.id)) + (r.tenant === undefined ? '' : `?tenantId=${r.tenant}`);
          const body = r.op.method === 'GET' || r.op.method === 'DELETE' ? undefined : (r.body ?? {});
          const response = await withToken(a.token, r.op.method, path, body);
          const sent = `${path} ${JSON.stringify(body ?? null)}`;
          const what = `${r.op.method} ${sent} → ${response.status}`;
          expect(response.status, what).toBeLessThan(500);
          expectNothingOfB(response, sent, what);
          // Naming B by id or by tenant is never a success.
          const namesB = [b.endpointId, b.messageId, b.attemptId, b.tenantId].some((id) => sent.includes(id));
          if (namesB) expect(response.status, what).toBeGreaterThanOrEqual(400);
        }
      }),
      { numRuns: 40 },
    );
    await waitForIdle();
    expect(await snapshotOfB()).toBe(before);
  });
});

describe('what a portal token may not do', () => {
  it('send events, change event types, open or revoke portal sessions: 403 forbidden', async () => {
    const cases: [string, string, unknown][] = [
      ['POST', '/events', buildEvent({ tenantId: a.tenantId })],
      ['PUT', '/event-types/sync.completed', { description: 'x' }],
      ['POST', '/portal/sessions', { tenantId: a.tenantId }],
      ['DELETE', `/portal/sessions/${a.token}`, undefined],
    ];
    const messages = (await stack.db.query('SELECT count(*)::int AS n FROM messages')).rows[0].n;
    for (const [method, path, body] of cases) {
      const response = await withToken(a.token, method, path, body);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.error.code).toBe('forbidden');
    }
    expect((await stack.db.query('SELECT count(*)::int AS n FROM messages')).rows[0].n).toBe(messages);
    expect((await withToken(a.token, 'GET', '/me')).status).toBe(200);
  });

  it('a read-only token may only GET (and test a filter), and not the signing secret', async () => {
    const token = await openSession(a.tenantId, { readOnly: true });
    expect((await withToken(token, 'GET', '/me')).body).toMatchObject({ kind: 'tenant', tenantId: a.tenantId, readOnly: true });
    for (const op of operations) {
      const path = fillPath(op, a);
      const response = await withToken(token, op.method, path, sampleBody(op, a.tenantId));
      const what = `${op.method} ${path} → ${response.status}`;
      if (op.access === 'read') expect(response.status, what).toBe(200);
      else {
        expect(response.status, what).toBe(403);
        expect(response.body.error.code).toBe('forbidden');
      }
    }
    expect((await withToken(token, 'GET', `/endpoints/${a.endpointId}/secret`)).status).toBe(403);
  });
});

describe('a portal token ends', () => {
  it('when revoked: 401 from the very next request', async () => {
    const token = await openSession(a.tenantId);
    expect((await withToken(token, 'GET', '/endpoints')).status).toBe(200);
    expect((await stack.request('DELETE', `/portal/sessions/${token}`)).status).toBe(204);
    const after = await withToken(token, 'GET', '/endpoints');
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    // Revoking again is not an error; a token no session has is 404.
    expect((await stack.request('DELETE', `/portal/sessions/${token}`)).status).toBe(204);
    expect((await stack.request('DELETE', '/portal/sessions/hfp_unknown')).status).toBe(404);
  });

  it('when it expires', async () => {
    const token = await openSession(a.tenantId, { expiresIn: '1h' });
    expect((await withToken(token, 'GET', '/me')).status).toBe(200);
    await stack.db.query("UPDATE portal_sessions SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND expires_at > now() + interval '30 minutes'", [a.tenantId]);
    expect((await withToken(token, 'GET', '/me')).status).toBe(401);

    const short = await stack.request('POST', '/portal/sessions', { tenantId: a.tenantId, expiresIn: '1s' });
    expect(Date.parse(short.body.expiresAt) - Date.now()).toBeLessThanOrEqual(1_000);
    await waitFor(async () => (await withToken(short.body.token, 'GET', '/me')).status === 401, 'the 1 s session to expire');
  });

  it('is stored only as its hash', async () => {
    const token = await openSession(a.tenantId);
    const { rows } = await stack.db.query('SELECT t::text AS row FROM portal_sessions t');
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.row).not.toContain(token.slice(4));
  });

  it('an operator key is still an operator key, and a made-up hfp_ token is 401', async () => {
    expect((await stack.request('GET', '/me')).body).toEqual({ kind: 'operator' });
    expect((await withToken(`hfp_${'x'.repeat(43)}`, 'GET', '/me')).status).toBe(401);
    expect((await withToken(API_KEY, 'GET', `/endpoints/${b.endpointId}`)).status).toBe(200);
  });
});
