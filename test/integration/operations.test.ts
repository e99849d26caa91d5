import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { receiversClosedAfterEach, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';
import { deliveryWorkflowId } from '../../workflows/ids';

/** What operators do: find, reset, replay, recover, test-send; with the README's own commands. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '1s', RETRY_EXPIRY: '1m' });
});
afterAll(() => stack?.stop());
const receiver = receiversClosedAfterEach();

/** `npm run temporal -- ARGS`, pointed at the suite's Temporal server as an operator's shell would be. */
async function temporalCli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'temporal', '--', ...args], {
    env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_CLI_PATH: inject('temporalBinary') },
  });
  return stdout;
}

/** The Temporal status of the delivery workflow of that message to that endpoint (RUNNING, COMPLETED, FAILED, …). */
async function workflowStatus(messageId: string, endpointId: string): Promise<string> {
  return (await stack.temporal.workflow.getHandle(deliveryWorkflowId(messageId, endpointId)).describe()).status.name;
}

async function statuses(ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await stack.request('GET', `/events/${id}`)).body.deliveries[0]?.status));
}

describe('bulk replay with the Temporal CLI', () => {
  it('finds failed deliveries by search attribute and resets them to succeeded once the receiver is healthy', async () => {
    const tenantId = uniqueTenant();
    let healthy = false;
    const r = await receiver(() => (healthy ? { status: 200 } : { status: 500 }));
    const ep = (await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url(), retrySchedule: ['1s'] }))).body;
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id);
    await waitFor(async () => (await statuses(ids)).every((s) => s === 'failed'), 'three failed deliveries');

    const query = `WorkflowType="deliveryWorkflow" AND ExecutionStatus="Failed" AND EndpointId="${ep.id}"`;
    const listed = await waitFor(async () => {
      const out = await temporalCli('workflow', 'list', '--query', query);
      return ids.every((id) => out.includes(deliveryWorkflowId(id, ep.id))) ? out : undefined;
    }, 'the CLI to list the failed deliveries');
    expect(listed).toContain('deliveryWorkflow');

    healthy = true;
    await temporalCli('workflow', 'reset', '--query', query, '--type', 'FirstWorkflowTask', '--reason', 'endpoint fixed', '--yes');
    await waitFor(async () => (await statuses(ids)).every((s) => s === 'succeeded'), 'every reset delivery to succeed', 60_000);
    // Each delivery: two failed attempts, then the reset's successful one, all with the same webhook-id.
    for (const id of ids) {
      const attempts = (await stack.request('GET', `/events/${id}/attempts`)).body.data;
      expect(attempts.map((a: { status: string }) => a.status)).toEqual(['succeeded', 'failed', 'failed']);
      expect(new Set(r.received.filter((x) => x.headers['webhook-id'] === id).map((x) => x.headers['webhook-id'])).size).toBe(1);
    }
  });
});

describe('what the Temporal UI shows', () => {
  it('a delivery still retrying: its attempt count and typed last failure, findable by search attribute', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver(() => ({ status: 503 }));
    const ep = (await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url(), retrySchedule: ['1s', '30s'] }))).body;
    const id = (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id;
    const handle = stack.temporal.workflow.getHandle(deliveryWorkflowId(id, ep.id));
    const pending = await waitFor(async () => {
      const { raw } = await handle.describe();
      const activity = raw.pendingActivities?.[0];
      return activity && (activity.attempt ?? 0) >= 2 ? activity : undefined;
    }, 'the second attempt to be pending');
    expect(pending.activityType?.name).toBe('deliver');
    expect(pending.lastFailure?.applicationFailureInfo?.type).toBe('HttpError');
    expect(pending.lastFailure?.message).toBe('HTTP 503');
    const running = await temporalCli('workflow', 'list', '--query', `TenantId="${tenantId}" AND ExecutionStatus="Running" AND WorkflowType="deliveryWorkflow"`);
    expect(running).toContain(deliveryWorkflowId(id, ep.id));
    await handle.terminate('test done');
  });
});

describe('redeliver', () => {
  it('delivers again with the same webhook-id, and 409 while that delivery still runs', async () => {
    const tenantId = uniqueTenant();
    let slow = false;
    const r = await receiver(() => (slow ? { status: 500 } : { status: 200 }));
    const ep = (await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url(), retrySchedule: ['3s'] }))).body;
    const id = (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id;
    await waitFor(async () => (await statuses([id]))[0] === 'succeeded', 'the first delivery');
    // The attempt is recorded before its activity completes; the workflow ends a moment later.
    await waitFor(async () => (await workflowStatus(id, ep.id)) === 'COMPLETED', 'the first delivery workflow to complete');

    slow = true;
    const again = await stack.request('POST', `/events/${id}/redeliver`, { endpointId: ep.id });
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ id, endpointIds: [ep.id], count: 1 });
    await waitFor(() => r.received.length === 2, 'the redelivery');
    const busy = await stack.request('POST', `/events/${id}/redeliver`, {});
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('conflict');
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([id, id]);
    expect((await stack.request('POST', `/events/${id}/redeliver`, { endpointId: 'ep_nope' })).status).toBe(404);
  });

  it('to every endpoint of the message, through a redeliverWorkflow', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const endpoints = [
      (await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url('/a') }))).body.id as string,
      (await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url('/b') }))).body.id as string,
    ];
    const id = (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id;
    for (const ep of endpoints) await waitFor(async () => (await workflowStatus(id, ep)) === 'COMPLETED', 'the first deliveries to complete');
    const again = await stack.request('POST', `/events/${id}/redeliver`, {});
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ id, count: 2 });
    await waitFor(() => r.received.length === 4, 'a second delivery to each endpoint');
    expect(r.received.map((x) => x.path).sort()).toEqual(['/a', '/a', '/b', '/b']);
  });
});

describe('recover', () => {
  it('redelivers exactly the deliveries that failed in the window', async () => {
    const tenantId = uniqueTenant();
    let healthy = false;
    const r = await receiver(() => (healthy ? { status: 200 } : { status: 500 }));
    const ep = (await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url(), retrySchedule: ['1s'] }))).body;
    const early = (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id;
    await waitFor(async () => (await statuses([early]))[0] === 'failed', 'the early failure');
    const since = new Date().toISOString();
    const inWindow: string[] = [];
    for (let i = 0; i < 2; i += 1) inWindow.push((await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id);
    await waitFor(async () => (await statuses(inWindow)).every((s) => s === 'failed'), 'the failures in the window');
    // A delivery's state is recorded just before its workflow fails; recover starts new runs of ended workflows.
    await waitFor(async () => (await Promise.all(inWindow.map((id) => workflowStatus(id, ep.id)))).every((s) => s === 'FAILED'), 'the failed delivery workflows to end');

    healthy = true;
    const before = r.received.length;
    const recovered = await stack.request('POST', `/endpoints/${ep.id}/recover`, { since });
    expect(recovered.status).toBe(202);
    expect(recovered.body).toEqual({ count: 2 });
    await waitFor(async () => (await statuses(inWindow)).every((s) => s === 'succeeded'), 'the recovered deliveries');
    expect(await statuses([early])).toEqual(['failed']);
    expect(r.received.slice(before).map((x) => x.headers['webhook-id']).sort()).toEqual([...inWindow].sort());
    expect((await stack.request('POST', `/endpoints/${ep.id}/recover`, { since: 'yesterday' })).status).toBe(422);
  });
});

describe('test-send', () => {
  it('sends a signed hookflow.test event to that endpoint only', async () => {
    const tenantId = uniqueTenant();
    const r = await receiver();
    const ep = (await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url() }))).body;
    await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url('/other') }));
    const secret = (await stack.request('GET', `/endpoints/${ep.id}/secret`)).body.secret;
    const sent = await stack.request('POST', `/endpoints/${ep.id}/test`, {});
    expect(sent.status).toBe(202);
    const [got] = await waitFor(() => (r.received.length === 1 ? r.received : undefined), 'the test event');
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(got!.headers[h])]));
    expect(new Webhook(secret).verify(got!.body, headers)).toMatchObject({ id: sent.body.id, type: 'hookflow.test', tenantId });
    expect(got!.path).toBe('/hook');
  });
});

describe('auto-disable', () => {
  it('disables an endpoint whose deliveries all failed for ENDPOINT_DISABLE_AFTER, and PATCH re-enables it', async () => {
    const short = await startTestStack({ RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '1s', ENDPOINT_DISABLE_AFTER: '2s' });
    try {
      const tenantId = uniqueTenant();
      const r = await receiver(() => ({ status: 500 }));
      const ep = (await short.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url() }))).body;
      const id = (await short.request('POST', '/events', buildEvent({ tenantId }))).body.id;
      const disabled = await waitFor(async () => {
        const e = (await short.request('GET', `/endpoints/${ep.id}`)).body;
        return e.disabled ? e : undefined;
      }, 'the endpoint to be disabled', 20_000);
      expect(disabled.disabledReason).toContain('ENDPOINT_DISABLE_AFTER');
      await waitFor(async () => (await short.request('GET', `/events/${id}`)).body.deliveries[0].status === 'failed', 'the delivery to end');
      const attempts = r.received.length;
      expect(attempts).toBeGreaterThanOrEqual(3);
      const reenabled = (await short.request('PATCH', `/endpoints/${ep.id}`, { disabled: false })).body;
      expect(reenabled).toMatchObject({ disabled: false, disabledReason: null });
    } finally {
      await short.stop();
    }
  });
});
