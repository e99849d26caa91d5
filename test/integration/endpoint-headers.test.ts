import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getEndpoint, resealSecrets, sealPlaintextHeaders, useSecretBox } from '../../src/db/endpoints';
import { createPool, migrate } from '../../src/db/pool';
import { createLogger } from '../../src/observability/logger';
import { EncryptionKey, createSecretBox } from '../../src/secrets/secret-box';
import { MASK, revealHeaders } from '../../src/webhooks/endpoint-headers';
import { createTestDatabase } from '../support/database';
import { capturedLogs } from '../support/log-capture';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * Receiver credentials in an endpoint's headers are secrets (contract, "Endpoints"): sealed at rest like
 * signing secrets, sent in plaintext to the receiver only, shown as "********" by every response (the
 * endpoint, its attempts' recorded request headers, a portal session's view), kept by a PATCH that sends
 * the mask back, and in no log line. Existing rows are migrated, and the re-encryption covers them.
 */
const key = randomBytes(32);
const keyId = new EncryptionKey(key).id;
/** Every credential this file sends: none may appear in a log line, a response or a raw column. */
const credentials = ['Bearer sk_live_4f1c9a', 'key-7d2e41', 'key-9b8c03', 'Bearer legacy-5e6f', 'k-legacy-0a1b'];

const logs = capturedLogs();

let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  stack = await startTestStack({ HOOKFLOW_ENCRYPTION_KEY: key.toString('base64') }, { log: logs.log });
  receiver = await Receiver.start();
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

async function raw(id: string): Promise<{ headers: Record<string, string>; sensitive_headers: string | null }> {
  return (await stack.db.query('SELECT headers, sensitive_headers FROM endpoints WHERE id = $1', [id])).rows[0];
}

async function deliverOne(tenantId: string) {
  const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
  expect(sent.status).toBe(202);
  const received = await waitFor(() => receiver.received.find((r) => r.headers['webhook-id'] === sent.body.id), `delivery of ${sent.body.id}`);
  const attempt = await waitFor(async () => (await stack.request('GET', `/events/${sent.body.id}/attempts`)).body.data[0], 'the attempt record');
  return { received, attemptId: attempt.id as string };
}

function expectNoCredential(text: string): void {
  for (const credential of credentials) expect(text).not.toContain(credential.replace(/^Bearer /, ''));
}

describe('credential headers', () => {
  let tenantId: string;
  let id: string;

  it('are stored sealed, apart from the plain ones, and every response shows them masked', async () => {
    tenantId = uniqueTenant();
    const created = await stack.request('POST', '/endpoints', buildEndpoint({
      tenantId, url: receiver.url(), headers: { Authorization: 'Bearer sk_live_4f1c9a', 'X-Api-Key': 'key-7d2e41', 'x-team': 'data' },
    }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id;
    const masked = { Authorization: MASK, 'X-Api-Key': MASK, 'x-team': 'data' };
    expect(created.body.headers).toEqual(masked);
    expect((await stack.request('GET', `/endpoints/${id}`)).body.headers).toEqual(masked);
    expect((await stack.request('GET', `/endpoints?tenantId=${tenantId}`)).body.data[0].headers).toEqual(masked);

    const stored = await raw(id);
    expect(stored.headers).toEqual({ 'x-team': 'data' });
    expect(stored.sensitive_headers!.startsWith(`enc:v1:${keyId}:`)).toBe(true);
    expectNoCredential(JSON.stringify(stored));
  });

  it('reach the receiver as given, while the attempt records them masked', async () => {
    const { received, attemptId } = await deliverOne(tenantId);
    expect(received.headers).toMatchObject({ authorization: 'Bearer sk_live_4f1c9a', 'x-api-key': 'key-7d2e41', 'x-team': 'data' });

    const attempt = (await stack.request('GET', `/attempts/${attemptId}`)).body;
    expect(attempt.request.headers).toMatchObject({ Authorization: MASK, 'X-Api-Key': MASK, 'x-team': 'data', 'webhook-id': received.headers['webhook-id'] });
    expect(attempt.request.headers['webhook-signature']).toMatch(/^v1,/);
    const { rows } = await stack.db.query('SELECT request_headers FROM attempts WHERE id = $1', [attemptId]);
    expect(rows[0].request_headers.Authorization).toBe(MASK);
    expectNoCredential(JSON.stringify(rows[0]));
  });

  it('a PATCH that sends the mask back keeps the stored value; a new value replaces it', async () => {
    // As a client that read the endpoint sends it back, with one credential changed and a name's case changed.
    const patched = await stack.request('PATCH', `/endpoints/${id}`, { headers: { authorization: MASK, 'X-Api-Key': 'key-9b8c03', 'x-team': 'ops' } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.headers).toEqual({ authorization: MASK, 'X-Api-Key': MASK, 'x-team': 'ops' });
    expect((await stack.request('PATCH', `/endpoints/${id}`, { description: 'headers untouched' })).status).toBe(200);

    const { received } = await deliverOne(tenantId);
    expect(received.headers).toMatchObject({ authorization: 'Bearer sk_live_4f1c9a', 'x-api-key': 'key-9b8c03', 'x-team': 'ops' });
    expect((await raw(id)).sensitive_headers!.startsWith(`enc:v1:${keyId}:`)).toBe(true);
  });

  it('the mask with no stored value behind it is a 422 naming the header, and changes nothing', async () => {
    const before = await raw(id);
    const patched = await stack.request('PATCH', `/endpoints/${id}`, { headers: { authorization: MASK, 'X-Refresh-Token': MASK } });
    expect(patched.status).toBe(422);
    expect(patched.body.error.details).toEqual([{ path: 'body.headers.X-Refresh-Token', message: expect.stringContaining('none is stored') }]);
    expect(await raw(id)).toEqual(before);

    const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), headers: { Authorization: MASK } }));
    expect(created.status).toBe(422);
    expect(created.body.error.details[0].path).toBe('body.headers.Authorization');
  });

  it.each(['Host', 'content-length', 'Content-Type', 'User-Agent', 'webhook-id', 'Webhook-Custom', 'Transfer-Encoding'])(
    'an endpoint may not set %s: 422 naming the header, on create and on PATCH',
    async (name) => {
      const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), headers: { 'x-ok': '1', [name]: 'x' } }));
      expect(created.status).toBe(422);
      expect(created.body.error.details).toEqual([{ path: `body.headers.${name}`, message: expect.stringMatching(/^must not be set: /) }]);
      const patched = await stack.request('PATCH', `/endpoints/${id}`, { headers: { [name]: 'x' } });
      expect(patched.status).toBe(422);
      expect(patched.body.error.details[0].path).toBe(`body.headers.${name}`);
    },
  );

  it('one header twice in different cases is a 422', async () => {
    const response = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), headers: { 'X-Api-Key': 'a', 'x-api-key': 'b' } }));
    expect(response.status).toBe(422);
    expect(response.body.error.details[0].path).toBe('body.headers.x-api-key');
  });

  it('a read-only portal session sees them masked, in the endpoint and in its attempts', async () => {
    const session = await stack.request('POST', '/portal/sessions', { tenantId, readOnly: true });
    const as = (path: string) => stack.request('GET', path, undefined, { authorization: `Bearer ${session.body.token}` });
    const endpoint = await as(`/endpoints/${id}`);
    expect(endpoint.status).toBe(200);
    expect(endpoint.body.headers).toMatchObject({ authorization: MASK, 'X-Api-Key': MASK });
    const attempts = (await as(`/endpoints/${id}/attempts`)).body.data;
    for (const a of attempts) {
      const detail = await as(`/attempts/${a.id}`);
      expect(detail.status).toBe(200);
      expectNoCredential(JSON.stringify(detail.body));
    }
    expect(attempts.length).toBeGreaterThanOrEqual(2);
  });
});

describe('existing rows (migration 0008)', () => {
  const MIGRATIONS = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'src', 'db', 'migrations');

  it('moves plaintext credential headers apart and masks recorded ones; start-up and the re-encryption seal them', async () => {
    const database = await createTestDatabase(inject('adminDatabaseUrl'));
    const db = createPool(database.url, 2);
    try {
      // The database as the version before 0008 left it, with an endpoint and an attempt in the old shape.
      const before = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql') && f < '0008').length;
      await runner({ databaseUrl: database.url, dir: MIGRATIONS, direction: 'up', migrationsTable: 'hookflow_migrations', count: before, singleTransaction: true, log: () => undefined });
      const headers = { Authorization: 'Bearer legacy-5e6f', 'X-Api-Key': 'k-legacy-0a1b', 'x-team': 'data' };
      await db.query(`INSERT INTO endpoints (id, tenant_id, url, secret, headers) VALUES ('ep_legacy', 't', 'https://example.com/', 'whsec_plain', $1)`, [headers]);
      await db.query(`INSERT INTO endpoints (id, tenant_id, url, secret, headers) VALUES ('ep_plain', 't', 'https://example.com/', 'whsec_plain', '{"x-team":"ops"}')`);
      await db.query(`INSERT INTO messages (id, tenant_id, event_type, payload) VALUES ('msg_legacy', 't', 'a.b', '{}')`);
      await db.query(
        `INSERT INTO attempts (id, message_id, endpoint_id, attempt, status, duration_ms, request_headers)
         VALUES ('atm_legacy', 'msg_legacy', 'ep_legacy', 1, 'succeeded', 5, $1)`,
        [{ ...headers, 'webhook-signature': 'v1,abc' }],
      );

      await migrate(database.url, createLogger('silent'));

      const row = async (id: string) => (await db.query('SELECT headers, sensitive_headers FROM endpoints WHERE id = $1', [id])).rows[0];
      const legacy = await row('ep_legacy');
      expect(legacy.headers).toEqual({ 'x-team': 'data' });
      expect(JSON.parse(legacy.sensitive_headers)).toEqual({ Authorization: 'Bearer legacy-5e6f', 'X-Api-Key': 'k-legacy-0a1b' });
      expect(await row('ep_plain')).toEqual({ headers: { 'x-team': 'ops' }, sensitive_headers: null });
      const attempt = (await db.query(`SELECT request_headers FROM attempts WHERE id = 'atm_legacy'`)).rows[0].request_headers;
      expect(attempt).toEqual({ Authorization: MASK, 'X-Api-Key': MASK, 'x-team': 'data', 'webhook-signature': 'v1,abc' });

      // A process that starts with a key seals what the migration left in plaintext.
      const first = new EncryptionKey(randomBytes(32));
      useSecretBox(db, createSecretBox({ current: first }));
      expect(await sealPlaintextHeaders(db)).toMatchObject({ resealed: 1, unreadable: [] });
      expect((await row('ep_legacy')).sensitive_headers).toMatch(new RegExp(`^enc:v1:${first.id}:`));
      expect(revealHeaders((await getEndpoint(db, 'ep_legacy'))!.headers)).toEqual(headers);
      expect(await sealPlaintextHeaders(db)).toMatchObject({ checked: 0 });

      // After a key rotation, the re-encryption re-seals them under the new key.
      const second = new EncryptionKey(randomBytes(32));
      useSecretBox(db, createSecretBox({ current: second, old: [first] }));
      expect((await resealSecrets(db)).unreadable).toEqual([]);
      expect((await row('ep_legacy')).sensitive_headers).toMatch(new RegExp(`^enc:v1:${second.id}:`));
      expect(revealHeaders((await getEndpoint(db, 'ep_legacy'))!.headers)).toEqual(headers);
      expect((await resealSecrets(db)).resealed).toBe(0);

      // A credential a process older than 0008 wrote among the plain headers (a rolling deploy) is moved and sealed too.
      await db.query(`UPDATE endpoints SET headers = headers || '{"x-auth-token": "k-legacy-0a1b"}' WHERE id = 'ep_plain'`);
      expect((await resealSecrets(db)).resealed).toBe(1);
      expect((await row('ep_plain')).headers).toEqual({ 'x-team': 'ops' });
      expect((await row('ep_plain')).sensitive_headers).toMatch(new RegExp(`^enc:v1:${second.id}:`));
    } finally {
      await db.end();
      await database.drop();
    }
  });
});

describe('logs', () => {
  it('never carried a credential', () => {
    expect(logs.text()).toContain('delivery attempt');
    expectNoCredential(logs.text());
  });
});
