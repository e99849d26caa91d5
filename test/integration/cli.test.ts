import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

// `hookflow listen` (the relay to a local URL): test/integration/relay.test.ts.
