import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { resealSecrets, useSecretBox } from '../../src/db/endpoints';
import { createLogger } from '../../src/observability/logger';
import { EncryptionKey, createSecretBox } from '../../src/secrets/secret-box';
import { Receiver, waitFor, type Received } from '../support/receiver';
import { API_KEY, buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * Signing secrets at rest (HOOKFLOW_ENCRYPTION_KEY): Postgres holds only `enc:v1:` ciphertexts, while
 * the API and real deliveries work with the plaintext. The stack runs with a current key and one old
 * key, as after a key rotation; every log line of the run is kept to check no secret reached one.
 */
const currentKey = randomBytes(32);
const oldKey = randomBytes(32);
const currentId = new EncryptionKey(currentKey).id;
const oldBox = createSecretBox({ current: new EncryptionKey(oldKey) });
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;
/** Every plaintext secret this file uses: none may appear in a log line or a raw column. */
const plaintexts: string[] = [];

let logText = '';
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logText += chunk.toString('utf8');
    done();
  },
});

let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  stack = await startTestStack(
    { HOOKFLOW_ENCRYPTION_KEY: currentKey.toString('base64'), HOOKFLOW_ENCRYPTION_KEYS_OLD: oldKey.toString('base64') },
    { log: createLogger('debug', sink) },
  );
  receiver = await Receiver.start();
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

async function raw(endpointId: string): Promise<{ secret: string; previous_secret: string | null }> {
  const { rows } = await stack.db.query('SELECT secret, previous_secret FROM endpoints WHERE id = $1', [endpointId]);
  return rows[0];
}

async function createEndpoint(tenantId: string, secret?: string): Promise<string> {
  const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), ...(secret ? { secret } : {}) }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

/** Sends an event to the tenant and returns the request the receiver got for it. */
async function deliverOne(tenantId: string): Promise<{ received: Received; messageId: string }> {
  const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
  expect(sent.status).toBe(202);
  const received = await waitFor(() => receiver.received.find((r) => r.headers['webhook-id'] === sent.body.id), `delivery of ${sent.body.id}`);
  return { received, messageId: sent.body.id };
}

const signed = (r: Received) => Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(r.headers[h])]));

describe('signing secrets encrypted at rest', () => {
  it('stores only a ciphertext under the current key, while GET …/secret and deliveries use the plaintext', async () => {
    const tenantId = uniqueTenant();
    const secret = newSecret();
    plaintexts.push(secret);
    const id = await createEndpoint(tenantId, secret);

    const stored = await raw(id);
    expect(stored.secret.startsWith(`enc:v1:${currentId}:`)).toBe(true);
    expect(stored.secret).not.toContain(secret);
    expect(stored.secret).not.toContain(secret.slice('whsec_'.length));

    expect((await stack.request('GET', `/endpoints/${id}/secret`)).body).toEqual({ secret });
    const { received, messageId } = await deliverOne(tenantId);
    expect(new Webhook(secret).verify(received.body, signed(received))).toMatchObject({ id: messageId, tenantId });
  });

  it('encrypts generated secrets too', async () => {
    const id = await createEndpoint(uniqueTenant());
    const { secret } = (await stack.request('GET', `/endpoints/${id}/secret`)).body;
    plaintexts.push(secret);
    expect(secret).toMatch(/^whsec_/);
    expect((await raw(id)).secret).toMatch(new RegExp(`^enc:v1:${currentId}:`));
  });

  it('rotation encrypts the new and the previous secret, and deliveries verify under both', async () => {
    const tenantId = uniqueTenant();
    const first = newSecret();
    plaintexts.push(first);
    const id = await createEndpoint(tenantId, first);
    const rotated = await stack.request('POST', `/endpoints/${id}/secret/rotate`);
    expect(rotated.status).toBe(200);
    const second = rotated.body.secret as string;
    plaintexts.push(second);
    expect(second).toMatch(/^whsec_/);

    const stored = await raw(id);
    for (const value of [stored.secret, stored.previous_secret!]) expect(value.startsWith(`enc:v1:${currentId}:`)).toBe(true);
    expect(`${stored.secret}${stored.previous_secret}`).not.toContain(first.slice('whsec_'.length));

    const { received } = await deliverOne(tenantId);
    expect(String(received.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(first).verify(received.body, signed(received))).not.toThrow();
    expect(() => new Webhook(second).verify(received.body, signed(received))).not.toThrow();
  });

  it('keeps plaintext rows written before the key was set working, and encrypts them at the next write', async () => {
    const tenantId = uniqueTenant();
    const legacy = newSecret();
    plaintexts.push(legacy);
    const id = await createEndpoint(tenantId);
    await stack.db.query('UPDATE endpoints SET secret = $2 WHERE id = $1', [id, legacy]);

    expect((await stack.request('GET', `/endpoints/${id}/secret`)).body).toEqual({ secret: legacy });
    const { received } = await deliverOne(tenantId);
    expect(() => new Webhook(legacy).verify(received.body, signed(received))).not.toThrow();

    expect((await stack.request('PATCH', `/endpoints/${id}`, { description: 'touched' })).status).toBe(200);
    expect((await raw(id)).secret.startsWith(`enc:v1:${currentId}:`)).toBe(true);
    expect((await stack.request('GET', `/endpoints/${id}/secret`)).body).toEqual({ secret: legacy });
  });

  it('reads secrets sealed under a key in HOOKFLOW_ENCRYPTION_KEYS_OLD; a rotation re-seals the old one under the current key', async () => {
    const tenantId = uniqueTenant();
    const secret = newSecret();
    plaintexts.push(secret);
    const id = await createEndpoint(tenantId);
    await stack.db.query('UPDATE endpoints SET secret = $2 WHERE id = $1', [id, oldBox.seal(secret, id)]);

    expect((await stack.request('GET', `/endpoints/${id}/secret`)).body).toEqual({ secret });
    const { received } = await deliverOne(tenantId);
    expect(() => new Webhook(secret).verify(received.body, signed(received))).not.toThrow();

    const rotated = await stack.request('POST', `/endpoints/${id}/secret/rotate`);
    plaintexts.push(rotated.body.secret);
    const stored = await raw(id);
    expect(stored.previous_secret!.startsWith(`enc:v1:${currentId}:`)).toBe(true);
    expect(createSecretBox({ current: new EncryptionKey(currentKey) }).open(stored.previous_secret!, id)).toBe(secret);
  });

  it('the one-off re-encryption seals every row under the current key and names rows no key opens', async () => {
    const legacyId = await createEndpoint(uniqueTenant());
    const oldId = await createEndpoint(uniqueTenant());
    const lostId = await createEndpoint(uniqueTenant());
    const [legacy, old, lost] = [newSecret(), newSecret(), newSecret()];
    plaintexts.push(legacy, old, lost);
    await stack.db.query('UPDATE endpoints SET secret = $2 WHERE id = $1', [legacyId, legacy]);
    await stack.db.query('UPDATE endpoints SET secret = $2, previous_secret = $3 WHERE id = $1', [oldId, oldBox.seal(old, oldId), legacy]);
    const lostBox = createSecretBox({ current: new EncryptionKey(randomBytes(32)) });
    await stack.db.query('UPDATE endpoints SET secret = $2 WHERE id = $1', [lostId, lostBox.seal(lost, lostId)]);

    // A key nobody configured: the API says so with a 500, without handing out the ciphertext.
    const unreadable = await stack.request('GET', `/endpoints/${lostId}/secret`);
    expect(unreadable.status).toBe(500);
    expect(JSON.stringify(unreadable.body)).not.toContain('enc:v1:');

    useSecretBox(stack.db, createSecretBox({ current: stack.config.encryption.key, old: stack.config.encryption.oldKeys }));
    const result = await resealSecrets(stack.db, 2);
    expect(result.unreadable).toEqual([lostId]);
    expect(result.resealed).toBeGreaterThanOrEqual(2);

    const { rows } = await stack.db.query<{ id: string; secret: string; previous_secret: string | null }>(
      'SELECT id, secret, previous_secret FROM endpoints WHERE id <> $1',
      [lostId],
    );
    for (const row of rows) {
      expect(row.secret.startsWith(`enc:v1:${currentId}:`), row.id).toBe(true);
      if (row.previous_secret !== null) expect(row.previous_secret.startsWith(`enc:v1:${currentId}:`), row.id).toBe(true);
    }
    expect((await stack.request('GET', `/endpoints/${oldId}/secret`)).body).toEqual({ secret: old });
    expect((await stack.request('GET', `/endpoints/${legacyId}/secret`)).body).toEqual({ secret: legacy });
    expect((await resealSecrets(stack.db)).resealed).toBe(0);
  });

  it('no secret, key or API key reached a log line', () => {
    expect(logText.length).toBeGreaterThan(0);
    expect(plaintexts.length).toBeGreaterThanOrEqual(10);
    for (const secret of [...plaintexts, ...plaintexts.map((s) => s.slice('whsec_'.length))]) expect(logText).not.toContain(secret);
    for (const key of [currentKey, oldKey]) {
      expect(logText).not.toContain(key.toString('base64'));
      expect(logText).not.toContain(key.toString('hex'));
    }
    expect(logText).not.toContain(API_KEY);
  });
});
