import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger';
import { createReconciliation } from '../../src/temporal/reconciler';
import { deliveryWorkflowId } from '../../workflows/ids';
import { arrivals, expectInOrder } from '../support/order';
import { receiversClosedAfterEach, waitFor, type Received } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * Ordered delivery (contract: "Ordered delivery"), end to end: real API, Temporal, Postgres and receivers.
 * Retries are a second apart so a failing head holds its queue for seconds, not minutes.
 */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    RETRY_INITIAL_INTERVAL: '1s',
    RETRY_BACKOFF_COEFFICIENT: '1',
    RETRY_MAX_INTERVAL: '1s',
    RETRY_EXPIRY: '5m',
    DELIVERY_TIMEOUT: '30s',
  });
});
afterAll(() => stack?.stop());
const receiver = receiversClosedAfterEach();

async function endpoint(body: Parameters<typeof buildEndpoint>[0]): Promise<string> {
  const created = await stack.request('POST', '/endpoints', buildEndpoint(body));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

async function send(tenantId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const sent = await stack.request('POST', '/events', buildEvent({ tenantId, ...extra }));
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  return sent.body.id;
}

/** Events one after another, each sent once the previous one's 202 came back. */
async function sendEach(tenantId: string, count: number, extra: (n: number) => Record<string, unknown> = () => ({})): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < count; n += 1) ids.push(await send(tenantId, { payload: { n }, ...extra(n) }));
  return ids;
}

async function deliveryOf(messageId: string, endpointId: string) {
  const event = await stack.request('GET', `/events/${messageId}`);
  return event.body.deliveries.find((d: { endpointId: string }) => d.endpointId === endpointId);
}

const idOf = (r: Received) => String(r.headers['webhook-id']);
const countOf = (got: Received[], id: string) => got.filter((r) => idOf(r) === id).length;
/** The event's payload as the receiver got it: tests mark the messages a receiver treats apart. */
const dataOf = (r: Received) => (JSON.parse(r.body) as { data: Record<string, unknown> }).data;

/** Answers 500 to messages whose payload has `hold: true` until released, 200 to everything else. */
function gate() {
  let open = false;
  return { release: () => (open = true), answer: (r: Received) => ({ status: !open && dataOf(r).hold === true ? 500 : 200 }) };
}
const HOLD = { payload: { hold: true } };

describe('a FIFO endpoint', () => {
  it('receives 200 events sent one after another in order, with a receiver answering after 0–20 ms', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 200, delayMs: Math.floor(Math.random() * 21) }));
    await endpoint({ tenantId, url: r.url(), ordering: 'fifo' });
    const accepted = await sendEach(tenantId, 200);
    await waitFor(() => new Set(arrivals(r.received)).size === 200, 'all 200 deliveries', 240_000);
    expectInOrder(arrivals(r.received), accepted);
  }, 300_000);

  it('events sent side by side get one order, the same for every FIFO endpoint: the order of their seq', async () => {
    const tenantId = uniqueTenant();
    const r1 = await receiver(() => ({ status: 200, delayMs: Math.floor(Math.random() * 6) }));
    const r2 = await receiver(() => ({ status: 200, delayMs: Math.floor(Math.random() * 6) }));
    const e1 = await endpoint({ tenantId, url: r1.url(), ordering: 'fifo' });
    const e2 = await endpoint({ tenantId, url: r2.url(), ordering: 'fifo' });
    // Ten senders at once: message N+1's workflow often routes it before message N's does.
    const accepted: string[] = [];
    let n = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (n < 100) {
        const i = n++;
        accepted.push(await send(tenantId, { payload: { i } }));
      }
    }));
    await waitFor(() => new Set(arrivals(r1.received)).size === 100 && new Set(arrivals(r2.received)).size === 100, 'all 100 at both', 180_000);
    const { rows } = await stack.db.query<{ id: string }>('SELECT id FROM messages WHERE id = ANY ($1) ORDER BY seq', [accepted]);
    const order = rows.map((row) => row.id);
    expectInOrder(arrivals(r1.received), order);
    expectInOrder(arrivals(r2.received), order);
    expect((await stack.request('GET', `/endpoints/${e1}/queue`)).body.waiting + (await stack.request('GET', `/endpoints/${e2}/queue`)).body.waiting).toBe(0);
  }, 240_000);

  it('holds back every later message while one retries; an unordered endpoint of the tenant gets all meanwhile', async () => {
    const tenantId = uniqueTenant();
    const unordered = await receiver();
    let released: () => void = () => undefined;
    const allUnordered = new Promise<void>((resolve) => (released = resolve));
    // Message 10 fails three times; its fourth attempt succeeds, answered once the unordered endpoint has all 50.
    const fifo = await receiver((req) => {
      if (dataOf(req).n !== 9) return { status: 200 };
      return countOf(fifo.received, idOf(req)) <= 3 ? { status: 500 } : { status: 200, held: allUnordered };
    });
    await endpoint({ tenantId, url: unordered.url() });
    const fifoId = await endpoint({ tenantId, url: fifo.url(), ordering: 'fifo' });
    const accepted = await sendEach(tenantId, 50);
    const tenth = accepted[9]!;
    await waitFor(() => new Set(arrivals(unordered.received)).size === 50, 'all 50 at the unordered endpoint', 120_000);
    const fifoBefore = arrivals(fifo.received);
    expect(fifoBefore.slice(0, 9)).toEqual(accepted.slice(0, 9));
    expect(new Set(fifoBefore.slice(9)), 'only message 10, retried, after the first nine').toEqual(new Set([tenth]));
    // The eleventh waits behind the tenth: pending, unattempted, and says whom it waits for.
    expect(await deliveryOf(accepted[10]!, fifoId)).toMatchObject({ status: 'pending', attempts: 0, waitingFor: tenth });
    released();
    await waitFor(() => new Set(arrivals(fifo.received)).size === 50, 'all 50 at the FIFO endpoint', 120_000);
    expect(countOf(fifo.received, tenth)).toBe(4);
    expectInOrder(arrivals(fifo.received), accepted);
    expect(await deliveryOf(tenth, fifoId)).toMatchObject({ status: 'succeeded', attempts: 4, waitingFor: null });
  }, 300_000);

  it('a message whose retrySchedule runs out ends failed, and the ones after it follow in order', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver((req) => ({ status: dataOf(req).n === 4 ? 500 : 200 }));
    const endpointId = await endpoint({ tenantId, url: r.url(), ordering: 'fifo', retrySchedule: ['1s', '1s'] });
    const accepted = await sendEach(tenantId, 12);
    const fifth = accepted[4]!;
    await waitFor(() => new Set(arrivals(r.received)).size === 12, 'all 12', 120_000);
    expectInOrder(arrivals(r.received), accepted);
    expect(countOf(r.received, fifth)).toBe(3);
    expect(await deliveryOf(fifth, endpointId)).toMatchObject({ status: 'failed', attempts: 3 });
  }, 180_000);

  it('orders each orderingKey on its own: key A held back by a failing head never holds back key B', async () => {
    const tenantId = uniqueTenant();
    const g = gate();
    const r = await receiver(g.answer);
    const endpointId = await endpoint({ tenantId, url: r.url(), ordering: 'fifo' });
    const a: string[] = [];
    const b: string[] = [];
    for (let n = 0; n < 6; n += 1) {
      a.push(await send(tenantId, { orderingKey: 'order-A', payload: { key: 'A', n, hold: n === 0 } }));
      b.push(await send(tenantId, { orderingKey: 'order-B', payload: { key: 'B', n } }));
    }
    const headOfA = a[0]!;
    await waitFor(() => b.every((id) => arrivals(r.received).includes(id)), "all of key B's messages", 120_000);
    expect(arrivals(r.received).filter((id) => a.includes(id) && id !== headOfA), "key A's later messages").toEqual([]);
    expect(countOf(r.received, headOfA)).toBeGreaterThan(0);
    expectInOrder(arrivals(r.received).filter((id) => b.includes(id)), b);
    // Waits until A's five later messages are routed: a 202 comes before its message's routing.
    const queue = await waitFor(async () => {
      const q = await stack.request('GET', `/endpoints/${endpointId}/queue`);
      return q.body.waiting === 5 ? q : undefined;
    }, "key A's later messages waiting");
    expect(queue.body).toMatchObject({ ordering: 'fifo', waiting: 5, queues: [{ orderingKey: 'order-A', waiting: 5, state: 'delivering', head: headOfA, next: a[1], waitingFor: headOfA }] });
    g.release();
    await waitFor(() => a.every((id) => arrivals(r.received).includes(id)), "all of key A's messages", 120_000);
    expectInOrder(arrivals(r.received).filter((id) => a.includes(id)), a);
    const event = await stack.request('GET', `/events/${a[2]}`);
    expect(event.body.orderingKey).toBe('order-A');
  }, 240_000);

  it('redeliver and recover queue messages again behind those waiting, in their original order', async () => {
    const tenantId = uniqueTenant();
    let failing = true;
    const g = gate();
    const r = await receiver((req) => (failing && dataOf(req).fail === true ? { status: 500 } : g.answer(req)));
    const endpointId = await endpoint({ tenantId, url: r.url(), ordering: 'fifo', retrySchedule: ['1s'] });
    const since = new Date(Date.now() - 60_000).toISOString();
    // Three fail for good (two attempts each); one succeeds.
    const [ok, f1, f2, f3] = await sendEach(tenantId, 4, (n) => ({ payload: { n, fail: n > 0 } }));
    await waitFor(async () => (await deliveryOf(f3!, endpointId))?.status === 'failed' || undefined, 'the third failure', 120_000);
    failing = false;
    // A head that retries (for as long as RETRY_EXPIRY now), and one message waiting behind it.
    expect((await stack.request('PATCH', `/endpoints/${endpointId}`, { retrySchedule: null })).status).toBe(200);
    const [head] = await sendEach(tenantId, 1, () => HOLD);
    const [waiting] = await sendEach(tenantId, 1);
    await waitFor(() => countOf(r.received, head!) >= 2, 'the head to retry');
    await waitFor(async () => (await deliveryOf(waiting!, endpointId))?.waitingFor === head || undefined, 'the next one to wait behind the head');

    const recovered = await stack.request('POST', `/endpoints/${endpointId}/recover`, { since });
    expect(recovered.body).toEqual({ count: 3 });
    await waitFor(async () => (await deliveryOf(f3!, endpointId))?.status === 'pending' || undefined, 'the recovery to queue the failed ones');
    const again = await stack.request('POST', `/events/${ok}/redeliver`, { endpointId });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    // A delivery waiting in its queue cannot be redelivered beside it.
    expect((await stack.request('POST', `/events/${waiting}/redeliver`, { endpointId })).status).toBe(409);
    for (const id of [f1!, f2!, f3!, ok!]) expect(await deliveryOf(id, endpointId)).toMatchObject({ status: 'pending', attempts: 0, waitingFor: head });
    expect((await stack.request('GET', `/endpoints/${endpointId}/queue`)).body.waiting).toBe(5);

    const before = r.received.length;
    g.release();
    await waitFor(() => countOf(r.received, ok!) === 2, 'the redelivery', 120_000);
    const after = arrivals(r.received.slice(before)).filter((id) => id !== head);
    // The recovery (accepted first) in the messages' order, then the redelivery.
    expect(after).toEqual([waiting, f1, f2, f3, ok]);
    expect(await deliveryOf(f2!, endpointId)).toMatchObject({ status: 'succeeded', attempts: 1 });
  }, 240_000);

  it('disabling the endpoint holds its queue; enabling it resumes it', async () => {
    const tenantId = uniqueTenant();
    const g = gate();
    const r = await receiver(g.answer);
    const endpointId = await endpoint({ tenantId, url: r.url(), ordering: 'fifo' });
    const [head] = await sendEach(tenantId, 1, () => HOLD);
    const waiting = await sendEach(tenantId, 3);
    await waitFor(() => countOf(r.received, head!) >= 1, 'the head');
    // A 202 comes before the message is routed: all three wait behind the head before the endpoint is disabled.
    await waitFor(async () => (await stack.request('GET', `/endpoints/${endpointId}/queue`)).body.waiting === 3 || undefined, 'three waiting');
    expect((await stack.request('PATCH', `/endpoints/${endpointId}`, { disabled: true })).status).toBe(200);
    // The head was mid-retry when the endpoint was disabled: it ends, and nothing behind it goes.
    g.release();
    await waitFor(async () => (await deliveryOf(head!, endpointId))?.status !== 'pending' || undefined, 'the head to end');
    const held = await waitFor(async () => {
      const q = (await stack.request('GET', `/endpoints/${endpointId}/queue`)).body;
      return q.queues[0]?.state === 'held' ? q : undefined;
    }, 'the queue to be held');
    expect(held).toMatchObject({ waiting: 3, queues: [{ state: 'held', head: null, next: waiting[0], waitingFor: head }] });
    expect(arrivals(r.received).filter((id) => waiting.includes(id))).toEqual([]);
    expect(await deliveryOf(waiting[0]!, endpointId)).toMatchObject({ status: 'pending', attempts: 0, waitingFor: head });

    expect((await stack.request('PATCH', `/endpoints/${endpointId}`, { disabled: false })).status).toBe(200);
    await waitFor(() => waiting.every((id) => arrivals(r.received).includes(id)), 'the queue to resume', 120_000);
    expectInOrder(arrivals(r.received).filter((id) => waiting.includes(id)), waiting);
  }, 180_000);

  it('a PATCH of ordering applies to the messages accepted after it', async () => {
    const tenantId = uniqueTenant();
    const g = gate();
    const r = await receiver(g.answer);
    const endpointId = await endpoint({ tenantId, url: r.url() });
    // Unordered: a failing message holds back nothing.
    const [u1] = await sendEach(tenantId, 1, () => HOLD);
    const [u2] = await sendEach(tenantId, 1);
    await waitFor(() => arrivals(r.received).includes(u2!), 'the unordered message behind a failing one');

    const patched = await stack.request('PATCH', `/endpoints/${endpointId}`, { ordering: 'fifo' });
    expect(patched.body.ordering).toBe('fifo');
    // The first FIFO message does not wait for u1, accepted before the change (and still failing); the
    // second waits for the first.
    const [x1] = await sendEach(tenantId, 1, () => HOLD);
    await waitFor(() => arrivals(r.received).includes(x1!), 'the first FIFO message');
    expect(await deliveryOf(u1!, endpointId)).toMatchObject({ status: 'pending', waitingFor: null });
    const [x2] = await sendEach(tenantId, 1);
    await waitFor(async () => (await deliveryOf(x2!, endpointId))?.waitingFor === x1 || undefined, 'x2 to wait behind x1');

    // Back to unordered: x2 (accepted while FIFO) keeps waiting; a new message goes at once.
    expect((await stack.request('PATCH', `/endpoints/${endpointId}`, { ordering: 'unordered' })).body.ordering).toBe('unordered');
    const [y1] = await sendEach(tenantId, 1);
    await waitFor(() => arrivals(r.received).includes(y1!), 'the unordered message after the change');
    expect(arrivals(r.received)).not.toContain(x2);
    expect(await deliveryOf(x2!, endpointId)).toMatchObject({ status: 'pending', attempts: 0, waitingFor: x1 });
    g.release();
    await waitFor(() => arrivals(r.received).includes(x2!), 'x2 after x1', 60_000);
    expectInOrder(arrivals(r.received).filter((id) => id === x1 || id === x2), [x1!, x2!]);
  }, 180_000);

  it('waits for an earlier message of the tenant still being routed, and a message sent again after a 503 takes a new place', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const endpointId = await endpoint({ tenantId, url: r.url(), ordering: 'fifo' });
    // A POST /events whose workflow start has not happened yet, as its API process would leave it: stored
    // and unrouted (an insert like the API's, without the start).
    const inFlight = `in-flight-${tenantId}`;
    await stack.db.query(
      `WITH ins AS (INSERT INTO messages (id, tenant_id, event_type, payload, channels) VALUES ($1, $2, 'sync.completed', '{}', '{}') RETURNING id, tenant_id, seq)
       INSERT INTO unrouted_messages (message_id, tenant_id, seq) SELECT id, tenant_id, seq FROM ins`,
      [inFlight, tenantId],
    );
    const [later] = await sendEach(tenantId, 1);
    const blocked = await waitFor(async () => {
      const q = (await stack.request('GET', `/endpoints/${endpointId}/queue`)).body;
      return q.queues[0]?.state === 'blocked' ? q : undefined;
    }, 'the queue to wait for the earlier message');
    expect(blocked.queues[0]).toMatchObject({ waitingFor: inFlight, next: later });
    expect(await deliveryOf(later!, endpointId)).toMatchObject({ status: 'pending', attempts: 0, waitingFor: inFlight });
    expect(arrivals(r.received)).toEqual([]);

    // Its producer sends it again (the first POST got a 503): accepted now, so it goes after `later`.
    const again = await stack.request('POST', '/events', buildEvent({ tenantId, id: inFlight, payload: {} }));
    expect(again.status).toBe(202);
    await waitFor(() => arrivals(r.received).length === 2, 'both deliveries', 60_000);
    expect(arrivals(r.received)).toEqual([later, inFlight]);
  }, 120_000);

  it('stops waiting for an earlier message whose workflow never started, once a minute has passed', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    await endpoint({ tenantId, url: r.url(), ordering: 'fifo' });
    const never = `never-started-${tenantId}`;
    await stack.db.query(
      `WITH ins AS (INSERT INTO messages (id, tenant_id, event_type, payload, channels) VALUES ($1, $2, 'sync.completed', '{}', '{}') RETURNING id, tenant_id, seq)
       INSERT INTO unrouted_messages (message_id, tenant_id, seq) SELECT id, tenant_id, seq FROM ins`,
      [never, tenantId],
    );
    const [later] = await sendEach(tenantId, 1);
    await waitFor(async () => (await stack.db.query('SELECT 1 FROM fifo_queues WHERE blocked_by = $1', [never])).rowCount === 1 || undefined, 'the queue to be blocked');
    // Its POST began over a minute ago (UNSTARTED_GRACE_SECONDS): the reconciler's sweep moves the queue on.
    await stack.db.query("UPDATE unrouted_messages SET since = now() - interval '2 minutes' WHERE message_id = $1", [never]);
    await waitFor(() => arrivals(r.received).includes(later!), 'the later message', 60_000);
  }, 120_000);
});

describe('the reconciler and FIFO queues', () => {
  it('never fails a delivery waiting in its queue; a terminated head fails and the turn passes on', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(gate().answer);
    const endpointId = await endpoint({ tenantId, url: r.url(), ordering: 'fifo' });
    const [head] = await sendEach(tenantId, 1, () => HOLD);
    const waiting = await sendEach(tenantId, 2);
    await waitFor(async () => (await stack.request('GET', `/endpoints/${endpointId}/queue`)).body.waiting === 2 || undefined, 'two waiting');
    // Every pending row counts as quiet: the walk looks at all of them, the waiting ones included.
    const reconciler = createReconciliation({ client: stack.temporal, db: stack.db, taskQueue: stack.config.temporal.taskQueue, log: createLogger('silent'), quietMs: 0 });
    await reconciler.pass();
    await reconciler.walkOnce();
    for (const id of waiting) expect(await deliveryOf(id, endpointId)).toMatchObject({ status: 'pending', attempts: 0, waitingFor: head });

    await stack.temporal.workflow.getHandle(deliveryWorkflowId(head!, endpointId)).terminate('skip the poison message');
    await waitFor(async () => (await deliveryOf(head!, endpointId))?.status === 'failed' || undefined, 'the head to be failed by the reconciler', 60_000);
    expect(await deliveryOf(head!, endpointId)).toMatchObject({ failureReason: 'terminated: skip the poison message' });
    await waitFor(() => waiting.every((id) => arrivals(r.received).includes(id)), 'the queue to move on', 60_000);
    expectInOrder(arrivals(r.received).filter((id) => id !== head), waiting);
  }, 180_000);
});

describe('orderingKey', () => {
  it('is validated, kept, and returned', async () => {
    const tenantId = uniqueTenant();
    for (const bad of ['', 'has space', 'x'.repeat(129), 7]) {
      const refused = await stack.request('POST', '/events', buildEvent({ tenantId, orderingKey: bad }));
      expect(refused.status, JSON.stringify(bad)).toBe(422);
      expect(refused.body.error.details[0].path).toBe('body.orderingKey');
    }
    const id = await send(tenantId, { orderingKey: 'customer:42' });
    expect((await stack.request('GET', `/events/${id}`)).body.orderingKey).toBe('customer:42');
    const none = await send(tenantId);
    expect((await stack.request('GET', `/events/${none}`)).body.orderingKey).toBeNull();
  });

  it('changes nothing on an unordered endpoint: a failing message holds back no other of its key', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(gate().answer);
    const endpointId = await endpoint({ tenantId, url: r.url() });
    await sendEach(tenantId, 1, () => ({ orderingKey: 'k', ...HOLD }));
    const [second] = await sendEach(tenantId, 1, () => ({ orderingKey: 'k' }));
    await waitFor(async () => (await deliveryOf(second!, endpointId))?.status === 'succeeded' || undefined, 'the second message');
    expect(await deliveryOf(second!, endpointId)).toMatchObject({ waitingFor: null });
    expect((await stack.request('GET', `/endpoints/${endpointId}/queue`)).body).toMatchObject({ ordering: 'unordered', waiting: 0, queues: [] });
  });
});
