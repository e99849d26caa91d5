import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { receiversClosedAfterEach, waitFor } from '../support/receiver';
import { API_KEY, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * The customer portal's server side (issue 12): sessions, GET /me, the chart's stats, one attempt in full,
 * paged deliveries, the page's files and headers, the rate limit per token, and tokens kept out of logs.
 */
let stack: TestStack;
let portalDir: string;
const receiver = receiversClosedAfterEach();

beforeAll(async () => {
  portalDir = mkdtempSync(join(tmpdir(), 'hookflow-portal-'));
  mkdirSync(join(portalDir, 'assets'));
  writeFileSync(join(portalDir, 'index.html'), '<!doctype html><title>portal fixture</title><script type="module" src="/portal/assets/app-1234.js"></script>');
  writeFileSync(join(portalDir, 'assets', 'app-1234.js'), 'console.log("portal");');
  writeFileSync(join(portalDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  stack = await startTestStack(
    { INGEST_RATE_LIMIT: '0', RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '1s', PORTAL_FRAME_ANCESTORS: "'self' https://app.example.com" },
    { portalDir },
  );
});
afterAll(async () => {
  await stack?.stop();
  rmSync(portalDir, { recursive: true, force: true });
});

async function as(token: string, method: string, path: string, body?: unknown) {
  return stack.request(method, path, body, { authorization: `Bearer ${token}` });
}

/** The API alone on its own port, with configuration or a logger of the test's choosing. */
async function extraApi(o: { config?: Partial<Config>; portalDir?: string }): Promise<{ url: string; close(): Promise<void> }> {
  const { app } = createApp({
    db: stack.db, temporal: stack.temporal, config: { ...stack.config, ...o.config }, log: createLogger('silent'), metrics: createMetrics(), portalDir: o.portalDir,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('POST /portal/sessions', () => {
  it('returns a token, the page URL with the token in the fragment, and the expiry; GET /me tells the page who it is', async () => {
    const tenantId = uniqueTenant();
    const theme = { name: 'Acme Sync', primaryColor: '#0a7cff', logoUrl: 'https://cdn.example.com/logo.svg' };
    const created = await stack.request('POST', '/portal/sessions', { tenantId, theme });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^hfp_[A-Za-z0-9_-]{43}$/);
    expect(created.body.url).toBe(`${stack.apiUrl}/portal#token=${created.body.token}`);
    const hours = (Date.parse(created.body.expiresAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(0.99);
    expect(hours).toBeLessThanOrEqual(1);

    const me = await as(created.body.token, 'GET', '/me');
    expect(me.body).toEqual({ kind: 'tenant', tenantId, readOnly: false, expiresAt: created.body.expiresAt, theme });

    const week = await stack.request('POST', '/portal/sessions', { tenantId, expiresIn: '7d', readOnly: true });
    expect(week.status).toBe(201);
    expect((await as(week.body.token, 'GET', '/me')).body).toMatchObject({ readOnly: true, theme: null });
  });

  it.each([
    ['no tenantId', {}],
    ['a bad tenantId', { tenantId: 'has space' }],
    ['expiresIn over 7d', { tenantId: 't', expiresIn: '8d' }],
    ['expiresIn under 1s', { tenantId: 't', expiresIn: '500ms' }],
    ['expiresIn not a duration', { tenantId: 't', expiresIn: 'soon' }],
    ['readOnly not a boolean', { tenantId: 't', readOnly: 'yes' }],
    ['a colour that is not #rrggbb', { tenantId: 't', theme: { primaryColor: 'red' } }],
    ['a logo over http', { tenantId: 't', theme: { logoUrl: 'http://cdn.example.com/logo.svg' } }],
    ['a logo as javascript:', { tenantId: 't', theme: { logoUrl: 'javascript:alert(1)' } }],
    ['an unknown theme field', { tenantId: 't', theme: { css: 'body{}' } }],
    ['an unknown field', { tenantId: 't', admin: true }],
  ])('refuses %s with 422 and stores nothing', async (_name, body) => {
    const before = (await stack.db.query('SELECT count(*)::int AS n FROM portal_sessions')).rows[0].n;
    const response = await stack.request('POST', '/portal/sessions', body);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('validation_failed');
    expect((await stack.db.query('SELECT count(*)::int AS n FROM portal_sessions')).rows[0].n).toBe(before);
  });

  it('builds the URL on PUBLIC_URL when it is set', async () => {
    const api = await extraApi({ config: { portal: { ...stack.config.portal, publicUrl: 'https://hooks.example.com/base', frameAncestors: "'self'" } } });
    try {
      const response = await fetch(`${api.url}/portal/sessions`, {
        method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: 't' }),
      });
      const body = (await response.json()) as { url: string; token: string };
      expect(body.url).toBe(`https://hooks.example.com/base/portal#token=${body.token}`);
    } finally {
      await api.close();
    }
  });
});

describe('the portal rate limit', () => {
  it('INGEST_RATE_LIMIT counts per portal token, apart from other tokens and keys', async () => {
    const api = await extraApi({ config: { ingestRateLimit: 3 } });
    try {
      const token = async () => (await stack.request('POST', '/portal/sessions', { tenantId: uniqueTenant() })).body.token as string;
      const [first, second] = [await token(), await token()];
      const get = (key: string) => fetch(`${api.url}/me`, { headers: { authorization: `Bearer ${key}` } });
      const burst = await Promise.all(Array.from({ length: 6 }, () => get(first)));
      const limited = burst.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0]!.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await get(second)).status).toBe(200);
      expect((await get(API_KEY)).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});

describe('GET /endpoints/:id/stats', () => {
  it('counts successes and failures per bucket, and says how the endpoint is doing', async () => {
    const tenantId = uniqueTenant();
    const token = (await stack.request('POST', '/portal/sessions', { tenantId })).body.token;
    let failing = false;
    const hook = await receiver(() => (failing ? { status: 500, body: 'down for maintenance' } : { status: 200 }));
    const ep = (await stack.request('POST', '/endpoints', { tenantId, url: hook.url(), retrySchedule: ['1s'] })).body;

    const idle = await as(token, 'GET', `/endpoints/${ep.id}/stats`);
    expect(idle.status).toBe(200);
    expect(idle.body).toMatchObject({ period: '24h', bucketSeconds: 3600, totals: { succeeded: 0, failed: 0 }, state: { status: 'idle', since: null, reason: null } });
    expect(idle.body.buckets).toHaveLength(24);

    const ok = await stack.request('POST', '/events', buildEvent({ tenantId }));
    await waitFor(async () => (await stack.request('GET', `/events/${ok.body.id}`)).body.deliveries[0]?.status === 'succeeded', 'a success');
    failing = true;
    const bad = await stack.request('POST', '/events', buildEvent({ tenantId }));
    await waitFor(async () => (await stack.request('GET', `/events/${bad.body.id}`)).body.deliveries[0]?.status === 'failed', 'a failure');

    const day = (await as(token, 'GET', `/endpoints/${ep.id}/stats?period=24h`)).body;
    expect(day.totals).toEqual({ succeeded: 1, failed: 2 });
    expect(day.buckets.reduce((n: number, b: any) => n + b.succeeded + b.failed, 0)).toBe(3);
    const starts = day.buckets.map((b: any) => Date.parse(b.start));
    expect(starts.every((s: number) => s % 3_600_000 === 0)).toBe(true);
    expect(starts.slice(1).map((s: number, i: number) => s - starts[i])).toEqual(Array(23).fill(3_600_000));
    expect(Date.now() - starts[23]).toBeLessThan(3_600_000);
    expect(day.state.status).toBe('failing');
    expect(Date.parse(day.state.since)).toBeLessThanOrEqual(Date.now());
    expect(day.state.reason).toContain('500');

    const week = (await as(token, 'GET', `/endpoints/${ep.id}/stats?period=7d`)).body;
    expect(week).toMatchObject({ period: '7d', bucketSeconds: 21600, totals: { succeeded: 1, failed: 2 } });
    expect(week.buckets).toHaveLength(28);
    expect(week.buckets.every((b: any) => Date.parse(b.start) % 21_600_000 === 0)).toBe(true);

    await as(token, 'PATCH', `/endpoints/${ep.id}`, { disabled: true });
    expect((await as(token, 'GET', `/endpoints/${ep.id}/stats`)).body.state).toMatchObject({ status: 'disabled' });
    expect((await as(token, 'GET', `/endpoints/${ep.id}/stats?period=1h`)).status).toBe(422);
  });
});

describe('GET /attempts/:id', () => {
  it('shows the request as sent, body byte for byte, and the response', async () => {
    const tenantId = uniqueTenant();
    const hook = await receiver(() => ({ status: 418, headers: { 'x-receiver': 'teapot' }, body: '<img src=x onerror=alert(1)>' }));
    const ep = (await stack.request('POST', '/endpoints', { tenantId, url: hook.url(), retrySchedule: ['1s'] })).body;
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId, payload: { n: 1, text: 'ünïcode' } }));
    const attempts = await waitFor(async () => {
      const data = (await stack.request('GET', `/endpoints/${ep.id}/attempts`)).body.data;
      return data.length > 0 ? data : undefined;
    }, 'an attempt');
    const token = (await stack.request('POST', '/portal/sessions', { tenantId, readOnly: true })).body.token;
    const detail = await as(token, 'GET', `/attempts/${attempts[0].id}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ id: attempts[0].id, messageId: sent.body.id, endpointId: ep.id, status: 'failed', statusCode: 418 });
    expect(detail.body.request.body).toBe(hook.received[0]!.body);
    expect(detail.body.response).toMatchObject({ statusCode: 418, body: '<img src=x onerror=alert(1)>' });
    // URL and headers are recorded by the delivery activity since migration 0005; older attempts have null.
    if (detail.body.request.url !== null) expect(detail.body.request.url).toBe(hook.url());
    if (detail.body.request.headers !== null) expect(detail.body.request.headers['webhook-id']).toBe(sent.body.id);
    expect((await as(token, 'GET', '/attempts/atm_nope')).status).toBe(404);
  });
});

describe('the deliveries of an event are paged', () => {
  it('100 inline with a cursor and a summary of all; GET /events/:id/deliveries pages the rest by status', async () => {
    const tenantId = uniqueTenant();
    // No endpoint matches, so the message workflow delivers nothing; the rows are a 250-endpoint fan-out's.
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
    const ids = Array.from({ length: 250 }, (_, i) => `ep_page${String(i).padStart(3, '0')}`);
    await stack.db.query(
      `INSERT INTO deliveries (message_id, endpoint_id, status, failure_reason)
       SELECT $1, id, CASE WHEN n % 5 = 0 THEN 'failed' WHEN n % 5 = 1 THEN 'pending' ELSE 'succeeded' END,
              CASE WHEN n % 5 = 0 THEN 'HTTP 500 after 3 attempts' END
       FROM unnest($2::text[]) WITH ORDINALITY AS t(id, n)`,
      [sent.body.id, ids],
    );
    const token = (await stack.request('POST', '/portal/sessions', { tenantId })).body.token;
    const event = (await as(token, 'GET', `/events/${sent.body.id}`)).body;
    expect(event.deliveries).toHaveLength(100);
    expect(event.deliveries.map((d: any) => d.endpointId)).toEqual(ids.slice(0, 100));
    expect(event.deliverySummary).toEqual({ pending: 50, succeeded: 150, failed: 50 });
    expect(event.deliveriesNextCursor).toEqual(expect.any(String));
    expect(event.deliveries.find((d: any) => d.status === 'failed').failureReason).toBe('HTTP 500 after 3 attempts');

    const listed = (await as(token, 'GET', '/events')).body.data.find((e: any) => e.id === sent.body.id);
    expect(listed.deliveries).toHaveLength(100);
    expect(listed.deliverySummary).toEqual(event.deliverySummary);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await as(token, 'GET', `/events/${sent.body.id}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((d: any) => d.endpointId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);

    const failed = (await as(token, 'GET', `/events/${sent.body.id}/deliveries?status=failed&limit=250`)).body;
    expect(failed.data).toHaveLength(50);
    expect(failed.nextCursor).toBeNull();
    expect(failed.data.every((d: any) => d.status === 'failed')).toBe(true);

    for (const query of ['cursor=nope', `cursor=${Buffer.from("s:1").toString('base64url')}`, 'limit=0', 'status=done']) {
      const response = await as(token, 'GET', `/events/${sent.body.id}/deliveries?${query}`);
      expect(response.status, query).toBe(422);
    }
  });
});

describe('lists filtered by time', () => {
  it('GET /events and the attempt lists take since and until (createdAt in [since, until))', async () => {
    const tenantId = uniqueTenant();
    const hook = await receiver();
    const ep = (await stack.request('POST', '/endpoints', { tenantId, url: hook.url() })).body;
    const [old, recent] = [await stack.request('POST', '/events', buildEvent({ tenantId })), await stack.request('POST', '/events', buildEvent({ tenantId }))];
    await waitFor(async () => (await stack.request('GET', `/endpoints/${ep.id}/attempts`)).body.data.length === 2, 'two attempts');
    await stack.db.query("UPDATE messages SET created_at = now() - interval '2 days' WHERE id = $1", [old.body.id]);
    await stack.db.query("UPDATE attempts SET created_at = now() - interval '2 days' WHERE message_id = $1", [old.body.id]);
    const token = (await stack.request('POST', '/portal/sessions', { tenantId })).body.token;
    const dayAgo = encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString());
    const ids = async (path: string) => (await as(token, 'GET', path)).body.data.map((x: any) => x.messageId ?? x.id);
    expect(await ids(`/events?since=${dayAgo}`)).toEqual([recent.body.id]);
    expect(await ids(`/events?until=${dayAgo}`)).toEqual([old.body.id]);
    expect(await ids(`/endpoints/${ep.id}/attempts?since=${dayAgo}`)).toEqual([recent.body.id]);
    expect(await ids(`/events/${old.body.id}/attempts?until=${dayAgo}`)).toEqual([old.body.id]);
    expect(await ids(`/events/${old.body.id}/attempts?since=${dayAgo}`)).toEqual([]);
    expect((await as(token, 'GET', '/events?since=yesterday')).status).toBe(422);
  });
});

describe('GET /portal', () => {
  it('serves the built page with a strict CSP, no referrer, nosniff, and never cached', async () => {
    for (const path of ['/portal', '/portal/']) {
      const response = await fetch(`${stack.apiUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('portal fixture');
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self' https://app.example.com",
      );
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    const script = await fetch(`${stack.apiUrl}/portal/assets/app-1234.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(script.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${stack.apiUrl}/portal/favicon.svg`)).status).toBe(200);
    const missing = await fetch(`${stack.apiUrl}/portal/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('not_found');
    // The API under /portal is not shadowed by the files.
    expect((await stack.request('POST', '/portal/sessions', { tenantId: 'shadow' })).status).toBe(201);
  });

  it('answers 503 with what to run when the page is not built', async () => {
    const api = await extraApi({ portalDir: join(portalDir, 'not-built') });
    try {
      const response = await fetch(`${api.url}/portal`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as any).error.message).toContain('npm run build:portal');
    } finally {
      await api.close();
    }
  });
});

describe('portal tokens never reach the logs', () => {
  it('a stack run that opens, uses and revokes a session logs every request, and never the token', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const logged = await startTestStack({ LOG_LEVEL: 'trace' }, { roles: ['api'], log: createLogger('trace', sink) });
    let token = '';
    try {
      const tenantId = uniqueTenant();
      const session = await logged.request('POST', '/portal/sessions', { tenantId });
      token = session.body.token;
      const use = (method: string, path: string, body?: unknown) => logged.request(method, path, body, { authorization: `Bearer ${token}` });
      expect((await use('GET', '/me')).status).toBe(200);
      expect((await use('POST', '/endpoints', { url: 'https://example.com/hook' })).status).toBe(201);
      expect((await use('GET', '/endpoints/ep_nope')).status).toBe(404);
      expect((await use('POST', '/events', buildEvent({ tenantId }))).status).toBe(403);
      expect((await use('GET', `/events?cursor=${token}`)).status).toBe(422);
      expect((await logged.request('DELETE', `/portal/sessions/${token}`)).status).toBe(204);
      expect((await use('GET', '/me')).status).toBe(401);
    } finally {
      await logged.stop();
    }
    const text = lines.join('');
    expect(text).toContain('/portal/sessions/[redacted]');
    expect(text.match(/"url":"\/me"/g)?.length).toBe(2);
    expect(token).toMatch(/^hfp_/);
    expect(text).not.toContain(token.slice(4));
    expect(/hfp_[A-Za-z0-9_-]{43}/.exec(text), 'a portal token in the logs').toBeNull();
  });
});
