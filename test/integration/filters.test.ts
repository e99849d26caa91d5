import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';
import { deliveryWorkflowId, messageWorkflowId } from '../../workflows/ids';

let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  stack = await startTestStack();
  receiver = await Receiver.start();
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

/** The response's raw text, to see numbers as written. */
async function raw(method: string, path: string, body?: string, token = 'test-key-0123456789'): Promise<{ status: number; text: string }> {
  const response = await fetch(`${stack.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text() };
}

const deliveredTo = (messageId: string) => new Set(receiver.received.filter((r) => r.headers['webhook-id'] === messageId).map((r) => r.path));

async function deliveryWorkflows(messageId: string): Promise<number> {
  const { count } = await stack.temporal.workflow.count(`WorkflowType = "deliveryWorkflow" AND MessageId = "${messageId}"`);
  return count;
}

describe('an endpoint filter through the API', () => {
  it('is kept as written, numbers with their digits, and returned so', async () => {
    const tenantId = uniqueTenant();
    const created = await raw('POST', '/endpoints', `{"tenantId":"${tenantId}","url":"${receiver.url()}","filter": {"data": {"n": {"$gt": 12345678901234567889}, "price": 10.10}}}`);
    expect(created.status).toBe(201);
    expect(created.text).toContain('"filter":{"data":{"n":{"$gt":12345678901234567889},"price":10.10}}');
    const id = (JSON.parse(created.text) as { id: string }).id;
    expect((await raw('GET', `/endpoints/${id}`)).text).toContain('"filter":{"data":{"n":{"$gt":12345678901234567889},"price":10.10}}');
  });

  it('refuses a bad filter with 422 naming its path, and changes nothing', async () => {
    const tenantId = uniqueTenant();
    const bad = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), filter: { data: { amount: { $gtt: 5 } } } }));
    expect(bad.status).toBe(422);
    expect(bad.body.error.details).toEqual([{ path: 'body.filter.data.amount.$gtt', message: expect.stringContaining('is not an operator') }]);
    const notObject = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), filter: ['a'] }));
    expect(notObject.status).toBe(422);
    expect(notObject.body.error.details[0].path).toBe('body.filter');
    const large = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), filter: { data: { note: 'x'.repeat(8_200) } } }));
    expect(large.status).toBe(422);
    expect(large.body.error.details).toEqual([{ path: 'body.filter', message: expect.stringContaining('8 KiB') }]);
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const tooDeep = await raw('POST', '/endpoints', `{"tenantId":"${tenantId}","url":"${receiver.url()}","filter":${deep}}`);
    expect(tooDeep.status).toBe(422);
    expect(JSON.parse(tooDeep.text).error.details[0].path).toBe('body.filter');
    expect((await raw('POST', '/filters/test', `{"filter":{},"event":${deep}}`)).status).toBe(422);
    const duplicate = await raw('POST', '/endpoints', `{"tenantId":"${tenantId}","url":"${receiver.url()}","filter":{"type":"a","type":"b"}}`);
    expect(duplicate.status).toBe(422);
    expect(duplicate.text).toContain('body.filter.type');
    expect((await stack.request('GET', `/endpoints?tenantId=${tenantId}`)).body.data).toEqual([]);

    const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(), filter: { type: 'a' } }));
    const patched = await stack.request('PATCH', `/endpoints/${ep.body.id}`, { filter: { $or: 'a' } });
    expect(patched.status).toBe(422);
    expect(patched.body.error.details[0].path).toBe('body.filter.$or');
    expect((await stack.request('GET', `/endpoints/${ep.body.id}`)).body.filter).toEqual({ type: 'a' });
    const cleared = await stack.request('PATCH', `/endpoints/${ep.body.id}`, { filter: null });
    expect(cleared.body.filter).toBeNull();
  });
});

describe('POST /filters/test', () => {
  it('answers whether a filter matches an event, numbers compared exactly', async () => {
    const test = (filter: string, event: string) => raw('POST', '/filters/test', `{"filter":${filter},"event":${event}}`);
    expect(await test('{"data":{"n":{"$gt":12345678901234567889}}}', '{"data":{"n":12345678901234567890}}')).toEqual({ status: 200, text: '{"matches":true}' });
    expect(await test('{"data":{"n":12345678901234567889}}', '{"data":{"n":12345678901234567890}}')).toEqual({ status: 200, text: '{"matches":false}' });
    expect(await test('{"data":{"price":10.1}}', '{"data":{"price":10.10}}')).toEqual({ status: 200, text: '{"matches":true}' });
    const bad = await test('{"data":{"$regex":"x"}}', '{}');
    expect(bad.status).toBe(422);
    expect(JSON.parse(bad.text).error.details).toEqual([{ path: 'body.filter.data.$regex', message: expect.stringContaining('is not an operator') }]);
  });

  it('a portal token may call it; a read-only one may only read', async () => {
    const tenantId = uniqueTenant();
    const session = await stack.request('POST', '/portal/sessions', { tenantId });
    const body = '{"filter":{"type":"a.b"},"event":{"type":"a.b"}}';
    expect(await raw('POST', '/filters/test', body, session.body.token)).toEqual({ status: 200, text: '{"matches":true}' });
    const readOnly = await stack.request('POST', '/portal/sessions', { tenantId, readOnly: true });
    expect((await raw('POST', '/filters/test', body, readOnly.body.token)).status).toBe(200);
  });
});

describe('delivery with filters', () => {
  it('one event to 1,000 endpoints where 900 filters drop it: exactly 100 deliveries and 100 child workflows', async () => {
    const tenantId = uniqueTenant();
    // Raw text: the filters' numbers must reach hookflow with every digit.
    const create = (i: number, filter: string) => stack.request('POST', '/endpoints', `{"tenantId":"${tenantId}","url":"${receiver.url(`/ep/${i}`)}","filter":${filter}}`);
    // The kept 100 are the oldest: the first page (the newest 500) is all dropped and must still advance.
    const kept: string[] = [];
    const dropped: string[] = [];
    for (let batch = 0; batch < 20; batch += 1) {
      const created = await Promise.all(
        Array.from({ length: 50 }, (_, j) => {
          const i = batch * 50 + j;
          return i < 100
            ? create(i, '{"data":{"region":"eu","amount":{"$gt":12345678901234567889}}}')
            : create(i, i % 2 === 0 ? '{"data":{"region":"us"}}' : '{"data":{"amount":{"$gt":12345678901234567890}}}');
        }),
      );
      expect(created.every((c) => c.status === 201)).toBe(true);
      (batch < 2 ? kept : dropped).push(...created.map((c) => c.body.id as string));
    }

    const sent = await raw('POST', '/events', `{"tenantId":"${tenantId}","type":"invoice.paid","payload":{"region":"eu","amount":12345678901234567890}}`);
    expect(sent.status).toBe(202);
    const messageId = (JSON.parse(sent.text) as { id: string }).id;

    await waitFor(() => deliveredTo(messageId).size === 100, '100 deliveries', 120_000);
    const runs = await waitFor(async () => {
      const found: { runId: string; status: string }[] = [];
      for await (const run of stack.temporal.workflow.list({ query: `WorkflowId = "${messageWorkflowId(messageId)}"` })) found.push({ runId: run.runId, status: run.status.name });
      const done = found.some((r) => r.status === 'COMPLETED') && found.every((r) => r.status === 'COMPLETED' || r.status === 'CONTINUED_AS_NEW');
      return found.length >= 2 && done ? found : undefined;
    }, 'the message workflow to complete its pages', 60_000);
    await waitFor(async () => (await deliveryWorkflows(messageId)) === 100, '100 delivery workflows in visibility', 60_000);

    // Every child the message started is in visibility by now; the dropped 900 have none, and nothing more came.
    const event = await waitFor(async () => {
      const e = await stack.request('GET', `/events/${messageId}`);
      return e.body.deliverySummary.succeeded === 100 ? e.body : undefined;
    }, 'the 100 deliveries to be recorded', 60_000);
    expect(event.deliverySummary).toEqual({ pending: 0, succeeded: 100, failed: 0 });
    expect(new Set(event.deliveries.map((d: { endpointId: string }) => d.endpointId))).toEqual(new Set(kept));
    expect(event.deliveriesNextCursor).toBeNull();
    expect(deliveredTo(messageId)).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `/ep/${i}`)));
    expect(await deliveryWorkflows(messageId)).toBe(100);
    const { rows } = await stack.db.query('SELECT count(*)::int AS n FROM attempts WHERE message_id = $1', [messageId]);
    expect(rows[0].n).toBe(100);

    // The history says which endpoints each page's filters dropped: the local activity's recorded result.
    const filteredOut: string[] = [];
    for (const run of runs) {
      const history = await stack.temporal.workflow.getHandle(messageWorkflowId(messageId), run.runId).fetchHistory();
      for (const e of history.events ?? []) {
        for (const payload of Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) => p.payloads ?? [])) {
          const result = JSON.parse(Buffer.from(payload.data!).toString('utf8')) as { filteredOut?: string[] };
          filteredOut.push(...(result.filteredOut ?? []));
        }
      }
    }
    expect(new Set(filteredOut)).toEqual(new Set(dropped));
    expect(filteredOut).toHaveLength(900);
  }, 360_000);

  it('an endpoint whose filter changes between two events gets the second by the new filter', async () => {
    const tenantId = uniqueTenant();
    const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url('/changing'), filter: { data: { plan: 'pro' } } }));
    const first = await stack.request('POST', '/events', buildEvent({ tenantId, payload: { plan: 'free' } }));
    await waitFor(async () => {
      const run = await stack.temporal.workflow.getHandle(messageWorkflowId(first.body.id)).describe().catch(() => undefined);
      return run?.status.name === 'COMPLETED';
    }, 'the first message workflow to complete');
    expect((await stack.request('GET', `/events/${first.body.id}`)).body.deliveries).toEqual([]);
    await expect(stack.temporal.workflow.getHandle(deliveryWorkflowId(first.body.id, ep.body.id)).describe()).rejects.toThrow();

    expect((await stack.request('PATCH', `/endpoints/${ep.body.id}`, { filter: { data: { plan: { $in: ['free', 'pro'] } } } })).status).toBe(200);
    const second = await stack.request('POST', '/events', buildEvent({ tenantId, payload: { plan: 'free' } }));
    await waitFor(() => deliveredTo(second.body.id).size === 1, 'the second event to arrive');
    expect(deliveredTo(first.body.id).size).toBe(0);
    const event = await waitFor(async () => {
      const e = await stack.request('GET', `/events/${second.body.id}`);
      return e.body.deliveries[0]?.status === 'succeeded' ? e.body : undefined;
    }, 'the delivery to be recorded');
    expect(event.deliveries.map((d: { endpointId: string }) => d.endpointId)).toEqual([ep.body.id]);
  });

  it('a test send goes to the endpoint whatever its filter', async () => {
    const tenantId = uniqueTenant();
    const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url('/tested'), filter: { type: 'never.sent' } }));
    const test = await stack.request('POST', `/endpoints/${ep.body.id}/test`, {});
    expect(test.status).toBe(202);
    await waitFor(() => deliveredTo(test.body.id).size === 1, 'the test event to arrive');
  });
});
