import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Hookflow, rawJson, verify, type Endpoint } from '@hookflow/client';
import { killTree, startNpm, type HookflowProcess } from '../support/processes';
import { Receiver, waitFor } from '../support/receiver';
import { API_KEY, startExtraWorker, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * `hookflow listen` end to end (docs/relay.md): the command as a user runs it, relaying a tenant's
 * deliveries over a WebSocket it opens to hookflow, to a real local receiver; a second API process
 * started with `npm run api`, the worker in this process, everything meeting in Postgres.
 */
let stack: TestStack;
let hookflow: Hookflow;
let secondApi: HookflowProcess | undefined;
const listens: Listen[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  stack = await startTestStack({ RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '2s' });
  hookflow = new Hookflow(stack.apiUrl, API_KEY);
});
afterAll(async () => {
  for (const l of listens) l.kill();
  if (secondApi) await killTree(secondApi);
  for (const r of receivers) await r.close();
  await stack?.stop();
});

type Listen = { child: ChildProcess; output: () => string; secret: string; endpointId: string; exited: Promise<number | null>; kill(): void };

/** `hookflow listen <local url> …` against `apiUrl`, ready once it has said it is connected. */
async function startListen(args: string[], apiUrl = stack.apiUrl, expectConnected = true): Promise<Listen> {
  const child = spawn('bin/hookflow.js', ['listen', ...args], {
    env: { ...process.env, HOOKFLOW_API_URL: apiUrl, HOOKFLOW_API_KEY: API_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listen: Listen = { child, output: () => output, secret: '', endpointId: '', exited, kill: () => child.exitCode === null && child.kill('SIGKILL') };
  listens.push(listen);
  if (!expectConnected) return listen;
  await waitFor(() => output.includes('connected:') || child.exitCode !== null, `listen to connect; output:\n${output}`);
  expect(output, output).toContain('connected:');
  listen.secret = /signing secret: (whsec_\S+)/.exec(output)![1]!;
  listen.endpointId = /relay endpoint (ep_\w+)/.exec(output)![1]!;
  return listen;
}

async function localReceiver(): Promise<Receiver> {
  const r = await Receiver.start(() => ({ status: 200, body: 'thanks' }));
  receivers.push(r);
  return r;
}

const attemptsOf = async (eventId: string) => (await hookflow.attempts.list({ eventId })).data;

describe('hookflow listen', () => {
  it("relays a tenant's deliveries to the local server, signed as any endpoint's, and records its answer", async () => {
    const tenantId = uniqueTenant();
    const local = await localReceiver();
    const listen = await startListen([local.url('/webhooks'), '--tenant', tenantId, '--event-types', 'sync.completed']);

    const endpoint = await hookflow.endpoints.get(listen.endpointId);
    expect(endpoint).toMatchObject({ tenantId, relay: true, url: `${stack.apiUrl}/relay/${listen.endpointId}`, eventTypes: ['sync.completed'] });

    // The endpoint's own headers go along, credentials revealed for the local server only.
    await hookflow.endpoints.update(listen.endpointId, { headers: { authorization: 'Bearer local-only', 'x-env': 'dev' } });
    const sent = await hookflow.events.send({ tenantId, type: 'sync.completed', payload: { syncId: 's-1', n: 42 } });
    await hookflow.events.send({ tenantId, type: 'other.type', payload: {} });
    const delivery = await waitFor(() => local.received[0], 'the delivery at the local server');
    const event = verify(listen.secret, delivery.body, delivery.headers);
    expect(event).toMatchObject({ id: sent.id, type: 'sync.completed', tenantId });
    expect(delivery.path).toBe('/webhooks');
    expect(delivery.headers['user-agent']).toMatch(/^hookflow\//);
    expect(delivery.headers).toMatchObject({ authorization: 'Bearer local-only', 'x-env': 'dev' });

    await waitFor(async () => (await hookflow.events.get(sent.id)).deliveries[0]?.status === 'succeeded', 'the delivery to succeed');
    const [attempt] = await attemptsOf(sent.id);
    expect(attempt).toMatchObject({ endpointId: listen.endpointId, status: 'succeeded', statusCode: 200, responseBody: 'thanks' });
    await waitFor(() => listen.output().includes(`sync.completed ${sent.id} → 200`), `listen to print the delivery:\n${listen.output()}`);
    // Only the subscribed type came.
    expect(local.received).toHaveLength(1);
  });

  it('without listen an attempt fails with "relay not connected" and is retried; started again, the retry arrives', async () => {
    const tenantId = uniqueTenant();
    const local = await localReceiver();
    const first = await startListen([local.url('/hooks'), '--tenant', tenantId]);
    first.kill();
    await first.exited;

    const sent = await hookflow.events.send({ tenantId, type: 'sync.completed', payload: { syncId: 's-2' } });
    await waitFor(async () => (await attemptsOf(sent.id)).filter((a) => a.error === 'relay not connected').length >= 2, 'two attempts failing without a relay');
    expect((await hookflow.events.get(sent.id)).deliveries[0]).toMatchObject({ status: 'pending' });
    expect(local.received).toHaveLength(0);

    // The same local URL reuses the endpoint, and so its secret.
    const second = await startListen([local.url('/hooks'), '--tenant', tenantId]);
    expect(second.endpointId).toBe(first.endpointId);
    expect(second.secret).toBe(first.secret);
    const delivery = await waitFor(() => local.received[0], 'the retry at the local server');
    expect(verify(second.secret, delivery.body, delivery.headers)).toMatchObject({ id: sent.id });
    await waitFor(async () => (await hookflow.events.get(sent.id)).deliveries[0]?.status === 'succeeded', 'the retried delivery to succeed');
  });

  it('takes a payload filter, sent as written, and drops it when started again without one', async () => {
    const tenantId = uniqueTenant();
    const local = await localReceiver();
    const first = await startListen([local.url(), '--tenant', tenantId, '--filter', '{"data": {"n": {"$gt": 12345678901234567889}}}']);
    // The filter comes back as written, its number's digits kept.
    expect((await hookflow.http.GET('/endpoints/{id}', { params: { path: { id: first.endpointId } }, parseAs: 'text' })).data).toContain('{"$gt":12345678901234567889}');
    const dropped = await hookflow.events.send({ tenantId, type: 'sync.completed', payload: rawJson('{"n": 12345678901234567889}') });
    const kept = await hookflow.events.send({ tenantId, type: 'sync.completed', payload: rawJson('{"n": 12345678901234567890}') });
    await waitFor(() => local.received[0], 'the event the filter keeps');
    expect((await hookflow.events.get(dropped.id)).deliveries).toEqual([]);
    expect(local.received.map((r) => JSON.parse(r.body).id)).toEqual([kept.id]);
    first.kill();
    await first.exited;
    const second = await startListen([local.url(), '--tenant', tenantId]);
    expect(second.endpointId).toBe(first.endpointId);
    expect((await hookflow.endpoints.get(second.endpointId)).filter).toBeNull();
  });

  it("records the local server's failure as the attempt's, its headers included, and retries it", async () => {
    const tenantId = uniqueTenant();
    let healthy = false;
    const local = await Receiver.start(() => (healthy ? { status: 204 } : { status: 503, headers: { 'retry-after': '1' }, body: 'busy' }));
    receivers.push(local);
    await startListen([local.url(), '--tenant', tenantId]);
    const sent = await hookflow.events.send({ tenantId, type: 'sync.completed', payload: {} });
    const failed = await waitFor(async () => (await attemptsOf(sent.id)).find((a) => a.status === 'failed'), 'a failed attempt');
    expect(failed).toMatchObject({ statusCode: 503, error: 'HTTP 503', responseBody: 'busy' });
    const detail = await hookflow.attempts.get(failed.id);
    expect(detail.response.headers).toMatchObject({ 'retry-after': '1' });
    expect(detail.request.url).toBe(`${stack.apiUrl}/relay/${detail.endpointId}`);
    expect(detail.request.headers).toMatchObject({ 'webhook-id': sent.id, 'content-type': 'application/json' });
    healthy = true;
    await waitFor(async () => (await hookflow.events.get(sent.id)).deliveries[0]?.status === 'succeeded', 'the retry to succeed');
  });

  it('reaches whichever API process holds the connection: listen on a second API process (npm run api), two workers', async () => {
    const worker = await startExtraWorker(stack);
    secondApi = await startNpm('api', {
      PORT: '0', API_KEYS: API_KEY, DATABASE_URL: stack.config.databaseUrl!, TEMPORAL_ADDRESS: stack.config.temporal.address!,
      TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue, LOG_LEVEL: 'info',
    }, /"msg":"API listening"/);
    const tenantId = uniqueTenant();
    const local = await localReceiver();
    await startListen([local.url(), '--tenant', tenantId], secondApi.apiUrl);
    // Sent through the first API; the worker runs in this process; the connection is held by the other one.
    const sent = await hookflow.events.send({ tenantId, type: 'sync.completed', payload: { via: 'second api' } });
    const delivery = await waitFor(() => local.received[0], 'the delivery through the second API process');
    expect(JSON.parse(delivery.body)).toMatchObject({ id: sent.id, data: { via: 'second api' } });
    await waitFor(async () => (await hookflow.events.get(sent.id)).deliveries[0]?.status === 'succeeded', 'the delivery to succeed');
    // Several deliveries, whichever worker runs them.
    const more = await Promise.all([1, 2, 3, 4].map((n) => hookflow.events.send({ tenantId, type: 'sync.completed', payload: { n } })));
    await waitFor(() => local.received.length === 5, 'every delivery through the second API process');
    expect(new Set(local.received.map((r) => JSON.parse(r.body).id))).toEqual(new Set([sent.id, ...more.map((e) => e.id)]));
    await worker.stop();
  });
});

describe('hookflow listen --portal', () => {
  it("relays its own tenant's events only, shows the relay in the portal, and stops when the portal deletes it", async () => {
    const [mine, theirs] = [uniqueTenant('mine'), uniqueTenant('theirs')];
    const session = await hookflow.portal.createSession({ tenantId: mine });
    const local = await localReceiver();
    const listen = await startListen([local.url(), '--portal', session.url]);

    const other = await localReceiver();
    await hookflow.endpoints.create({ tenantId: theirs, url: other.url() });
    const theirsSent = await hookflow.events.send({ tenantId: theirs, type: 'sync.completed', payload: { who: 'theirs' } });
    const mineSent = await hookflow.events.send({ tenantId: mine, type: 'sync.completed', payload: { who: 'mine' } });
    await waitFor(() => other.received[0], "the other tenant's own endpoint to get its event");
    await waitFor(() => local.received[0], 'my event through the relay');
    await waitFor(async () => (await hookflow.events.get(mineSent.id)).deliveries[0]?.status === 'succeeded', 'my delivery to succeed');
    expect(local.received.map((r) => JSON.parse(r.body).id)).toEqual([mineSent.id]);
    expect((await hookflow.events.get(theirsSent.id)).deliveries.map((d) => d.endpointId)).not.toContain(listen.endpointId);

    // The portal (its token) sees the relay endpoint, and may delete it: listen then stops.
    const portal = new Hookflow(stack.apiUrl, session.token);
    const listed: Endpoint[] = await portal.endpoints.list().toArray();
    expect(listed).toEqual([expect.objectContaining({ id: listen.endpointId, relay: true })]);
    await portal.endpoints.delete(listen.endpointId);
    expect(await listen.exited).toBe(1);
    expect(listen.output()).toContain('the endpoint was deleted');
  });

  it("refuses a read-only session, another tenant's relay endpoint, and a connection without a key", async () => {
    const tenantId = uniqueTenant();
    const readOnly = await hookflow.portal.createSession({ tenantId, readOnly: true });
    const refused = await startListen(['http://127.0.0.1:9/', '--portal', readOnly.url], stack.apiUrl, false);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/read-only portal session cannot relay/);

    const otherTenantsRelay = await hookflow.endpoints.create({ tenantId: uniqueTenant(), relay: true });
    const session = await hookflow.portal.createSession({ tenantId });
    const relayUrl = (id: string) => `${stack.apiUrl.replace('http', 'ws')}/relay/${id}`;
    expect(await upgradeStatus(relayUrl(otherTenantsRelay.id), session.token)).toBe(404);
    expect(await upgradeStatus(relayUrl(otherTenantsRelay.id), readOnly.token)).toBe(403);
    expect(await upgradeStatus(relayUrl(otherTenantsRelay.id), undefined)).toBe(401);
    const ordinary = await hookflow.endpoints.create({ tenantId, url: 'https://example.com/hook' });
    expect(await upgradeStatus(relayUrl(ordinary.id), API_KEY)).toBe(409);
    expect(await upgradeStatus(relayUrl(otherTenantsRelay.id), API_KEY)).toBe(101);
  });

  it("keeps a relay endpoint's url hookflow's own", async () => {
    const tenantId = uniqueTenant();
    await expect(hookflow.endpoints.create({ tenantId, relay: true, url: 'https://example.com/hook' })).rejects.toMatchObject({
      status: 422, details: [expect.objectContaining({ path: 'body.url' })],
    });
    await expect(hookflow.endpoints.create({ tenantId })).rejects.toMatchObject({ status: 422, details: [expect.objectContaining({ path: 'body.url' })] });
    const relay = await hookflow.endpoints.create({ tenantId, relay: true, description: 'mine' });
    await expect(hookflow.endpoints.update(relay.id, { url: 'https://example.com/elsewhere' })).rejects.toMatchObject({ status: 422, code: 'validation_failed' });
    // The portal's form sends the url back as it is, with the fields it changed.
    expect(await hookflow.endpoints.update(relay.id, { url: relay.url, description: 'renamed' })).toMatchObject({ url: relay.url, description: 'renamed', relay: true });
  });
});

/** The HTTP status hookflow answers a relay WebSocket's upgrade with (101 when it is accepted). */
function upgradeStatus(url: string, key: string | undefined): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const ws = new WebSocket(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    ws.on('unexpected-response', (_req, res) => {
      resolveStatus(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolveStatus(101);
      ws.close();
    });
    ws.on('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}
