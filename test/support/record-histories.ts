import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleOverlapPolicy, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { retentionScheduleId } from '../../src/temporal/retention-schedule';
import { deliveryWorkflowId, redeliverySliceWorkflowId, messageWorkflowId } from '../../workflows/ids';
import { FANOUT_SLICE_SIZE } from '../../workflows';
import { receiversClosedAfterEach, waitFor } from './receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from './stack';

/**
 * Records one history per scenario of every workflow type, from real runs of the code checked out, into
 * test/histories/$HISTORIES_VERSION/<workflow>-<scenario>.json; test/unit/workflow-replay.test.ts replays
 * them. Run it through `npm run histories:record` (record-histories.config.ts), never in `npm test`.
 *
 * Not recorded: a fan-out over FANOUT_PAGE_SIZE (500, workflows/types.ts) endpoints, whose messageWorkflow continues as new;
 * it costs 501 real deliveries. The continue-as-new of recoverWorkflow and retentionWorkflow needs 500
 * failed deliveries or 200 purge batches, so neither is recorded either.
 */
const version = process.env.HISTORIES_VERSION ?? '';
const root = fileURLToPath(new URL('../histories/', import.meta.url));
const folder = join(root, version);

let stack: TestStack;
beforeAll(async () => {
  if (!/^v\d+-[\w.-]+$/.test(version)) {
    throw new Error('Set HISTORIES_VERSION to the new folder under test/histories, e.g. HISTORIES_VERSION=v2-$(git rev-parse --short HEAD).');
  }
  if (existsSync(folder)) throw new Error(`test/histories/${version} exists already; histories of a version are never re-recorded in place.`);
  // Short retries and expiry so failing scenarios end in seconds; the workflow code is what production runs.
  stack = await startTestStack({
    RETRY_INITIAL_INTERVAL: '1s',
    RETRY_BACKOFF_COEFFICIENT: '1',
    RETRY_MAX_INTERVAL: '1s',
    RETRY_EXPIRY: '15s',
    DELIVERY_TIMEOUT: '2s',
    RETENTION: '1h',
  });
  mkdirSync(folder, { recursive: true });
});
afterAll(() => stack?.stop());
const receiver = receiversClosedAfterEach();

async function endpoint(body: Parameters<typeof buildEndpoint>[0]): Promise<string> {
  const created = await stack.request('POST', '/endpoints', buildEndpoint(body));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

async function send(tenantId: string): Promise<string> {
  const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
  expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  return sent.body.id;
}

/** Waits for the run to close with `status`, then saves its history as `<workflow type>-<scenario>.json`. */
async function save(handle: WorkflowHandle, scenario: string, status: 'COMPLETED' | 'FAILED' | 'CONTINUED_AS_NEW' | 'CANCELLED'): Promise<void> {
  const description = await waitFor(async () => {
    const d = await handle.describe();
    return d.status.name === 'RUNNING' ? undefined : d;
  }, `${handle.workflowId} to close`, 60_000);
  expect(description.status.name, `${handle.workflowId} (${scenario})`).toBe(status);
  const history = await stack.temporal.workflow.getHandle(handle.workflowId, description.runId).fetchHistory();
  writeFileSync(join(folder, `${description.type}-${scenario}.json`), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
}

const handle = (workflowId: string, runId?: string) => stack.temporal.workflow.getHandle(workflowId, runId);

describe('messageWorkflow and fanoutWorkflow', () => {
  it('no endpoints', async () => {
    const messageId = await send(uniqueTenant());
    await save(handle(messageWorkflowId(messageId)), 'no-endpoints', 'COMPLETED');
  });

  it('one endpoint, delivered on the first attempt', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const endpointId = await endpoint({ tenantId, url: r.url() });
    const messageId = await send(tenantId);
    await save(handle(messageWorkflowId(messageId)), 'one-endpoint', 'COMPLETED');
    await save(handle(deliveryWorkflowId(messageId, endpointId)), 'first-attempt-succeeds', 'COMPLETED');
  });

  it('more endpoints than one slice: fanoutWorkflow slices', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const endpoints = FANOUT_SLICE_SIZE + 5;
    for (let i = 0; i < endpoints; i += 1) await endpoint({ tenantId, url: r.url() });
    const messageId = await send(tenantId);
    const message = handle(messageWorkflowId(messageId));
    await save(message, `${endpoints}-endpoints-in-slices`, 'COMPLETED');
    // The slices are the message's children; the small one keeps the file small.
    const slices = (await message.fetchHistory()).events!.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
    expect(slices).toHaveLength(2);
    await waitFor(() => r.received.length === endpoints, 'every delivery of the fan-out', 60_000);
    const sizes = await Promise.all(slices.map(async (id) => (await handle(id).fetchHistory()).events!.length));
    await save(handle(slices[sizes[0]! < sizes[1]! ? 0 : 1]!), 'slice-of-5', 'COMPLETED');
  });
});

describe('deliveryWorkflow', () => {
  it('fails, then succeeds on a retry', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver((_, index) => ({ status: index === 0 ? 500 : 200 }));
    const endpointId = await endpoint({ tenantId, url: r.url() });
    const messageId = await send(tenantId);
    await save(handle(deliveryWorkflowId(messageId, endpointId)), 'fails-then-succeeds', 'COMPLETED');
    expect(r.received).toHaveLength(2);
  });

  it("the endpoint's retrySchedule runs out: failed, then recovered", async () => {
    const tenantId = uniqueTenant();
    let failing = true;
    const r = await receiver(() => ({ status: failing ? 500 : 200 }));
    const endpointId = await endpoint({ tenantId, url: r.url(), retrySchedule: ['1s'] });
    const since = new Date(Date.now() - 60_000).toISOString();
    const messageId = await send(tenantId);
    await save(handle(deliveryWorkflowId(messageId, endpointId)), 'retry-schedule-exhausted', 'FAILED');
    expect(r.received).toHaveLength(2);

    failing = false;
    const recovered = await stack.request('POST', `/endpoints/${endpointId}/recover`, { since });
    expect(recovered.status, JSON.stringify(recovered.body)).toBe(202);
    const recover = await waitFor(async () => {
      for await (const w of stack.temporal.workflow.list({ query: `WorkflowType = 'recoverWorkflow'` })) return w;
      return undefined;
    }, 'the recoverWorkflow run');
    await save(handle(recover.workflowId, recover.runId), 'one-failed-delivery', 'COMPLETED');
    await waitFor(() => r.received.length === 3, 'the redelivery');
    await save(handle(deliveryWorkflowId(messageId, endpointId)), 'redelivered-by-recover', 'COMPLETED');
    await save(handle(redeliverySliceWorkflowId(messageId, endpointId, recover.runId)), 'recovery-slice', 'COMPLETED');
  });

  it('redelivered to every endpoint of the message', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const endpointIds = [await endpoint({ tenantId, url: r.url() }), await endpoint({ tenantId, url: r.url() })];
    const messageId = await send(tenantId);
    for (const endpointId of endpointIds) {
      await waitFor(async () => (await handle(deliveryWorkflowId(messageId, endpointId)).describe().catch(() => undefined))?.status.name === 'COMPLETED', 'the first deliveries');
    }
    const again = await stack.request('POST', `/events/${messageId}/redeliver`, {});
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    const redeliver = await waitFor(async () => {
      for await (const w of stack.temporal.workflow.list({ query: `WorkflowType = 'redeliverWorkflow' AND MessageId = '${messageId}'` })) return w;
      return undefined;
    }, 'the redeliverWorkflow run');
    await save(handle(redeliver.workflowId, redeliver.runId), 'two-endpoints', 'COMPLETED');
    await waitFor(() => r.received.length === 4, 'the redeliveries');
  });

  it('cancelled while it retries', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 500 }));
    const endpointId = await endpoint({ tenantId, url: r.url() });
    const messageId = await send(tenantId);
    await waitFor(() => r.received.length >= 2, 'a retrying delivery');
    await handle(deliveryWorkflowId(messageId, endpointId)).cancel();
    await save(handle(deliveryWorkflowId(messageId, endpointId)), 'cancelled', 'CANCELLED');
  });

  it('RETRY_EXPIRY runs out: failed', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 503 }));
    const endpointId = await endpoint({ tenantId, url: r.url() });
    const messageId = await send(tenantId);
    await save(handle(deliveryWorkflowId(messageId, endpointId)), 'expired', 'FAILED');
  });

  it('410 Gone: failed at once', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 410 }));
    const endpointId = await endpoint({ tenantId, url: r.url() });
    const messageId = await send(tenantId);
    await save(handle(deliveryWorkflowId(messageId, endpointId)), 'gone-410', 'FAILED');
    expect(r.received).toHaveLength(1);
  });

  it('the endpoint is deleted between two attempts', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 500 }));
    const endpointId = await endpoint({ tenantId, url: r.url(), retrySchedule: ['3s'] });
    const messageId = await send(tenantId);
    await waitFor(() => r.received.length === 1, 'the first attempt');
    expect((await stack.request('DELETE', `/endpoints/${endpointId}`)).status).toBe(204);
    await save(handle(deliveryWorkflowId(messageId, endpointId)), 'endpoint-deleted', 'FAILED');
    expect(r.received).toHaveLength(1);
  });

  it('rateLimitPerSecond: a slot near, and one far enough off to wait for outside the first attempt', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const endpointId = await endpoint({ tenantId, url: r.url(), rateLimitPerSecond: 1 });
    // One slot a second: the seventh message's slot is about six seconds off, past the timer threshold.
    const messageIds: string[] = [];
    for (let i = 0; i < 7; i += 1) messageIds.push(await send(tenantId));
    await waitFor(() => r.received.length === messageIds.length, 'every rate-limited delivery', 60_000);
    const runs = await Promise.all(messageIds.map(async (messageId) => {
      const h = handle(deliveryWorkflowId(messageId, endpointId));
      await waitFor(async () => (await h.describe()).status.name === 'COMPLETED', `${h.workflowId} to complete`);
      const history = await h.fetchHistory();
      // Version 1 waited for a far slot on a workflow timer; version 2 holds it for the retrying activity.
      const events = history.events ?? [];
      return { h, timer: events.some((e) => e.timerStartedEventAttributes || e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliver') };
    }));
    const near = runs.find((run) => !run.timer);
    const far = runs.find((run) => run.timer);
    expect(near && far, 'one run with its slot near and one with its slot far').toBeTruthy();
    await save(near!.h, 'rate-limited', 'COMPLETED');
    await save(far!.h, 'rate-limited-slot-far', 'COMPLETED');
  });
});

describe('ordered delivery (FIFO endpoints)', () => {
  it('a FIFO endpoint: the message starts no child, the queue starts the delivery; a run without the turn is refused', async () => {
    const tenantId = uniqueTenant();
    let open = false;
    const r = await receiver((req) => ({ status: open || !req.body.includes('"hold":true') ? 200 : 500 }));
    const endpointId = await endpoint({ tenantId, url: r.url(), ordering: 'fifo' });
    const head = await stack.request('POST', '/events', buildEvent({ tenantId, payload: { hold: true } }));
    const next = await stack.request('POST', '/events', buildEvent({ tenantId }));
    await save(handle(messageWorkflowId(head.body.id)), 'one-fifo-endpoint', 'COMPLETED');
    await save(handle(messageWorkflowId(next.body.id)), 'fifo-queue-busy', 'COMPLETED');
    await waitFor(() => r.received.length >= 2, 'the head to retry');

    // A start of a delivery that waits in its queue (a stray repeat): its run may not claim the row.
    const stray = await stack.temporal.workflow.start('deliveryWorkflow', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: deliveryWorkflowId(next.body.id, endpointId),
      args: [{ messageId: next.body.id, endpointId, tenantId, eventType: 'sync.completed' }],
    });
    await save(stray, 'fifo-not-its-turn', 'FAILED');

    open = true;
    await save(handle(deliveryWorkflowId(head.body.id, endpointId)), 'fifo-head-retries-then-succeeds', 'COMPLETED');
    await waitFor(async () => (await stack.request('GET', `/events/${next.body.id}`)).body.deliveries[0]?.status === 'succeeded', 'the next one');
    const runs = [];
    for await (const w of stack.temporal.workflow.list({ query: `WorkflowId = '${deliveryWorkflowId(next.body.id, endpointId)}' AND ExecutionStatus = 'Completed'` })) runs.push(w);
    expect(runs).toHaveLength(1);
    await save(handle(runs[0]!.workflowId, runs[0]!.runId), 'fifo-given-the-turn', 'COMPLETED');
  });

  it('a FIFO head whose endpoint was disabled after it got the turn goes back to the front of its queue', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver((req) => ({ status: req.body.includes('"hold":true') ? 500 : 200 }));
    const endpointId = await endpoint({ tenantId, url: r.url(), ordering: 'fifo' });
    const head = await stack.request('POST', '/events', buildEvent({ tenantId, payload: { hold: true } }));
    const next = await stack.request('POST', '/events', buildEvent({ tenantId }));
    await waitFor(() => r.received.length >= 1, 'the head');
    await stack.request('PATCH', `/endpoints/${endpointId}`, { disabled: true });
    await save(handle(deliveryWorkflowId(head.body.id, endpointId)), 'fifo-head-endpoint-disabled', 'FAILED');
    // The turn given to the next one in the moment before the disable (as a hand-on racing the PATCH would),
    // and its run started: it finds the endpoint disabled before its first attempt.
    await waitFor(async () => (await stack.db.query('SELECT 1 FROM fifo_queues WHERE endpoint_id = $1 AND head_message_id IS NULL', [endpointId])).rowCount === 1 || undefined, 'the queue to be held');
    await stack.db.query('UPDATE fifo_queues SET head_message_id = $2, turn_at = now() WHERE endpoint_id = $1', [endpointId, next.body.id]);
    const run = await stack.temporal.workflow.start('deliveryWorkflow', {
      taskQueue: stack.config.temporal.taskQueue,
      workflowId: deliveryWorkflowId(next.body.id, endpointId),
      args: [{ messageId: next.body.id, endpointId, tenantId, eventType: 'sync.completed' }],
    });
    await save(run, 'fifo-put-back-endpoint-disabled', 'FAILED');
    expect((await stack.request('GET', `/events/${next.body.id}`)).body.deliveries[0]).toMatchObject({ status: 'pending', attempts: 0 });
  });
});

describe('retentionWorkflow', () => {
  it('purges a message older than RETENTION', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const endpointId = await endpoint({ tenantId, url: r.url() });
    const messageId = await send(tenantId);
    const delivery = handle(deliveryWorkflowId(messageId, endpointId));
    await waitFor(async () => (await delivery.describe()).status.name === 'COMPLETED', 'the delivery');
    await stack.db.query("UPDATE messages SET created_at = now() - interval '2 hours' WHERE id = $1", [messageId]);

    const schedule = stack.temporal.schedule.getHandle(retentionScheduleId(stack.config.temporal.taskQueue));
    await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const action = await waitFor(async () => (await schedule.describe()).info.recentActions[0], 'the triggered retention run');
    await save(handle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId), 'purges-one-message', 'COMPLETED');
    expect((await stack.request('GET', `/events/${messageId}`)).status).toBe(404);
  });
});
