import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { generateSecret } from '../../src/webhooks/signing';
import { freePort } from '../../src/embedded/postgres';
import { Receiver, waitFor } from '../support/receiver';
import { API_KEY, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/** The `hookflow` command (package.json `bin`), as a user runs it. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '1s' });
});
afterAll(() => stack?.stop());

async function hookflow(...args: string[]): Promise<any> {
  const { stdout } = await promisify(execFile)('bin/hookflow.js', args, {
    env: { ...process.env, HOOKFLOW_API_URL: stack.apiUrl, HOOKFLOW_API_KEY: API_KEY },
  });
  return JSON.parse(stdout);
}

describe('client commands', () => {
  it('endpoints add | list, events send | get, replay', async () => {
    const tenantId = uniqueTenant();
    let healthy = false;
    const r = await Receiver.start(() => (healthy ? { status: 200 } : { status: 500 }));
    try {
      // A filter only exact numbers pass: the event below carries n = 12345678901234567890.
      const ep = await hookflow('endpoints', 'add', '--tenant', tenantId, '--url', r.url(), '--event-type', 'sync.completed', '--filter', '{"data": {"n": {"$gt": 12345678901234567889}}}');
      expect(ep.id).toMatch(/^ep_/);
      expect(Object.keys(ep.filter.data.n)).toEqual(['$gt']);
      await stack.request('PATCH', `/endpoints/${ep.id}`, { retrySchedule: ['1s'] });
      const listed = await hookflow('endpoints', 'list', '--tenant', tenantId);
      expect(listed.data.map((e: { id: string }) => e.id)).toEqual([ep.id]);

      const sent = await hookflow('events', 'send', '--tenant', tenantId, '--type', 'sync.completed', '--payload', '{"rows": 3, "n": 12345678901234567890}', '--id', `cli-${tenantId}`);
      expect(sent).toMatchObject({ id: `cli-${tenantId}`, tenantId, type: 'sync.completed' });
      await waitFor(async () => (await hookflow('events', 'get', sent.id)).deliveries[0]?.status === 'failed', 'the delivery to fail');

      healthy = true;
      expect(await hookflow('replay', '--endpoint', ep.id)).toEqual({ count: 1 });
      await waitFor(async () => (await hookflow('events', 'get', sent.id)).deliveries[0]?.status === 'succeeded', 'the replayed delivery');
      expect(r.received.at(-1)!.body).toMatch(/,"data":\{"rows":3,"n":12345678901234567890\}\}$/);
    } finally {
      await r.close();
    }
  });

  it('endpoints add --fifo, events send --ordering-key, endpoints get | queue show what a FIFO queue waits for', async () => {
    const tenantId = uniqueTenant();
    let open = false;
    const r = await Receiver.start((req) => ({ status: open || !req.body.includes('"hold":true') ? 200 : 500 }));
    try {
      const ep = await hookflow('endpoints', 'add', '--tenant', tenantId, '--url', r.url(), '--fifo');
      expect(ep.ordering).toBe('fifo');
      const head = await hookflow('events', 'send', '--tenant', tenantId, '--type', 'order.updated', '--payload', '{"hold":true}', '--ordering-key', 'order-7');
      const next = await hookflow('events', 'send', '--tenant', tenantId, '--type', 'order.updated', '--payload', '{"n":2}', '--ordering-key', 'order-7');
      const shown = await waitFor(async () => {
        const got = await hookflow('endpoints', 'get', ep.id);
        return got.queue?.waiting === 1 ? got : undefined;
      }, 'the second message to wait');
      expect(shown).toMatchObject({ id: ep.id, ordering: 'fifo', queue: { waiting: 1, queues: [{ orderingKey: 'order-7', waiting: 1, state: 'delivering', head: head.id, next: next.id, waitingFor: head.id }] } });
      expect((await hookflow('endpoints', 'queue', ep.id)).queues[0].waitingFor).toBe(head.id);
      expect((await hookflow('events', 'get', next.id)).deliveries[0]).toMatchObject({ status: 'pending', waitingFor: head.id });
      open = true;
      await waitFor(async () => (await hookflow('events', 'get', next.id)).deliveries[0]?.status === 'succeeded', 'the queue to drain');
      expect((await hookflow('endpoints', 'get', ep.id)).queue).toEqual({ waiting: 0, queues: [], nextCursor: null });
    } finally {
      await r.close();
    }
  });

  it('reports API errors on stderr with a non-zero exit', async () => {
    await expect(hookflow('events', 'send', '--tenant', 'bad tenant', '--type', 'x')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('validation_failed') });
  });
});

describe('hookflow listen', () => {
  let child: ChildProcess;
  let output = '';
  const secret = generateSecret();
  let url = '';

  beforeAll(async () => {
    const port = await freePort();
    child = spawn('bin/hookflow.js', ['listen', '--port', String(port), '--secret', secret], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(() => output.includes('listening on'), `hookflow listen to start: ${output}`);
    url = `http://127.0.0.1:${port}/`;
  });
  afterAll(() => {
    child?.kill('SIGINT');
  });

  it('accepts a genuine delivery from hookflow and prints it', async () => {
    const tenantId = uniqueTenant();
    const ep = await stack.request('POST', '/endpoints', { tenantId, url, secret });
    expect(ep.status).toBe(201);
    const sent = await stack.request('POST', '/events', { tenantId, type: 'connection.created', payload: { connectionId: 'c-42' } });
    await waitFor(() => output.includes(`id=${sent.body.id}`), 'listen to print the delivery');
    expect(output).toMatch(new RegExp(`✓ .* connection.created id=${sent.body.id} tenant=${tenantId} \\{"connectionId":"c-42"\\}`));
    await waitFor(async () => (await stack.request('GET', `/events/${sent.body.id}`)).body.deliveries[0]?.status === 'succeeded', 'a 2xx recorded');
  });

  it('rejects a tampered delivery with 400', async () => {
    const id = 'msg_tampered';
    const timestamp = new Date();
    const body = JSON.stringify({ id, type: 'x.y', tenantId: 't', data: { amount: 1 } });
    const signature = new Webhook(secret).sign(id, timestamp, body);
    const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': signature };
    const genuine = await fetch(url, { method: 'POST', headers, body });
    expect(genuine.status).toBe(204);
    const tampered = await fetch(url, { method: 'POST', headers, body: body.replace('"amount":1', '"amount":1000') });
    expect(tampered.status).toBe(400);
    await waitFor(() => output.includes('rejected'), 'listen to print the rejection');
    expect(output).toMatch(/✗ .* rejected: .*id=msg_tampered/);
  });
});
