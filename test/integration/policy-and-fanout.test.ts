import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';
import { deliveryWorkflowId, messageWorkflowId } from '../../workflows/ids';

/** Runs with the default retry configuration, as `npm start` would. */
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

const seconds = (d: { seconds?: unknown } | null | undefined) => Number(d?.seconds ?? 0);

describe('the default retry policy, as Temporal recorded it', () => {
  it('says one day, 5 s initial, coefficient 2, 2 h cap, and 30 s + overhead per attempt', async () => {
    // The first attempt runs inline; the retrying activity, with the policy, exists once it has failed.
    const failingOnce = await Receiver.start((_r, index) => ({ status: index === 0 ? 500 : 200 }));
    const tenantId = uniqueTenant();
    const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: failingOnce.url() }));
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
    const handle = stack.temporal.workflow.getHandle(deliveryWorkflowId(sent.body.id, ep.body.id));
    await waitFor(async () => (await handle.describe().catch(() => undefined))?.status.name === 'COMPLETED', 'the delivery workflow to complete');
    expect(failingOnce.received).toHaveLength(2);
    await failingOnce.close();

    const history = await handle.fetchHistory();
    const scheduled = history.events!.map((e) => e.activityTaskScheduledEventAttributes).find((a) => a?.activityType?.name === 'deliver');
    expect(scheduled).toBeDefined();
    expect(seconds(scheduled!.scheduleToCloseTimeout)).toBe(86_400);
    expect(seconds(scheduled!.startToCloseTimeout)).toBe(40);
    expect(seconds(scheduled!.retryPolicy!.initialInterval)).toBe(5);
    expect(scheduled!.retryPolicy!.backoffCoefficient).toBe(2);
    expect(seconds(scheduled!.retryPolicy!.maximumInterval)).toBe(7_200);
    expect(scheduled!.retryPolicy!.maximumAttempts ?? 0).toBe(0);

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get({ name: 'EndpointId', type: 'KEYWORD' } as never)).toBe(ep.body.id);
  });
});

describe('a delivery whose first attempt succeeds', () => {
  it("costs its workflow one workflow task and no activity task (issue 11's step 2)", async () => {
    const tenantId = uniqueTenant();
    const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url() }));
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
    expect(sent.status).toBe(202);
    const handle = stack.temporal.workflow.getHandle(deliveryWorkflowId(sent.body.id, ep.body.id));
    await waitFor(async () => (await handle.describe().catch(() => undefined))?.status.name === 'COMPLETED', 'the delivery workflow to complete');

    const events = (await handle.fetchHistory()).events!;
    expect(events.filter((e) => e.workflowTaskStartedEventAttributes)).toHaveLength(1);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
    // The attempt itself is in the history, as the local activity's marker.
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
  });
});

describe('fan-out at scale', () => {
  it('one event to 1,000 endpoints of one tenant is delivered to each', async () => {
    const tenantId = uniqueTenant();
    const endpointIds: string[] = [];
    for (let batch = 0; batch < 20; batch += 1) {
      const created = await Promise.all(
        Array.from({ length: 50 }, (_, i) => stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url(`/ep/${batch * 50 + i}`) }))),
      );
      endpointIds.push(...created.map((c) => c.body.id));
    }
    expect(new Set(endpointIds).size).toBe(1_000);

    const sent = await stack.request('POST', '/events', buildEvent({ tenantId, type: 'sync.started' }));
    expect(sent.status).toBe(202);

    await waitFor(
      () => new Set(receiver.received.filter((r) => r.headers['webhook-id'] === sent.body.id).map((r) => r.path)).size === 1_000,
      '1,000 deliveries',
      240_000,
    );

    const event = await waitFor(async () => {
      const e = await stack.request('GET', `/events/${sent.body.id}`);
      return e.body.deliverySummary.succeeded === 1_000 ? e.body : undefined;
    }, 'every delivery to be recorded as succeeded', 60_000);
    expect(event.deliverySummary).toEqual({ pending: 0, succeeded: 1_000, failed: 0 });
    // The event carries the first 100; the rest are paged.
    expect(event.deliveries).toHaveLength(100);
    const delivered: string[] = event.deliveries.map((d: { endpointId: string }) => d.endpointId);
    for (let cursor = event.deliveriesNextCursor; cursor; ) {
      const page = (await stack.request('GET', `/events/${sent.body.id}/deliveries?limit=250&cursor=${cursor}`)).body;
      delivered.push(...page.data.map((d: { endpointId: string }) => d.endpointId));
      cursor = page.nextCursor;
    }
    expect(delivered).toHaveLength(1_000);
    expect(new Set(delivered)).toEqual(new Set(endpointIds));

    // The message workflow fanned out in pages of 500, continuing as new between them.
    const runs = await waitFor(async () => {
      const found = [];
      for await (const run of stack.temporal.workflow.list({ query: `WorkflowId = "${messageWorkflowId(sent.body.id)}"` })) found.push(run.status.name);
      return found.length >= 2 && found.every((status) => status === 'COMPLETED' || status === 'CONTINUED_AS_NEW') && found.includes('COMPLETED') ? found : undefined;
    }, 'the message workflow to complete', 30_000);
    expect(runs.filter((status) => status === 'CONTINUED_AS_NEW').length).toBeGreaterThanOrEqual(1);

    // Each page was cut into slices of 50, each started by a fanoutWorkflow that operators find by MessageId.
    const slices = await waitFor(async () => {
      const found = [];
      for await (const run of stack.temporal.workflow.list({ query: `WorkflowType = "fanoutWorkflow" AND MessageId = "${sent.body.id}"` })) {
        found.push(run.status.name);
      }
      return found.length === 20 && found.every((status) => status === 'COMPLETED') ? found : undefined;
    }, '20 completed fan-out slices', 30_000);
    expect(slices).toHaveLength(20);
  }, 360_000);
});
