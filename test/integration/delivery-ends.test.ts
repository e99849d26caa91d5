import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createDeliveries, insertMessage } from '../../src/db/messages';
import { createLogger } from '../../src/observability/logger';
import { createReconciliation } from '../../src/temporal/reconciler';
import { deliveryWorkflowId, messageWorkflowId } from '../../workflows/ids';
import { receiversClosedAfterEach, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * Every delivery ends (issue 16, item 1): whatever ends a delivery run — terminated, cancelled, timed out,
 * reset away, before or after its first task, of either workflow version — or a message run before it
 * started its deliveries, the row ends `failed` with the reason within seconds, and redeliver then works.
 * Each case is forced: the worker's two workflow task slots are held by two first attempts whose receiver
 * does not answer, so the other runs cannot begin; the reconciler does not need a slot.
 */
let stack: TestStack;
const receiver = receiversClosedAfterEach();
beforeAll(async () => {
  stack = await startTestStack({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '2', RETRY_INITIAL_INTERVAL: '250ms', RETRY_EXPIRY: '1h' });
});
afterAll(() => stack?.stop());

/** Within seconds: the reconciler looks every 2 s; the bound leaves room for a loaded machine. */
const SECONDS = 20_000;

type Row = { endpoint_id: string; status: string; run_id: string | null; failure_reason: string | null; attempts: number };
async function rowsOf(messageId: string): Promise<Map<string, Row>> {
  const { rows } = await stack.db.query<Row>('SELECT * FROM deliveries WHERE message_id = $1', [messageId]);
  return new Map(rows.map((r) => [r.endpoint_id, r]));
}
const rowOf = async (messageId: string, endpointId: string) => (await rowsOf(messageId)).get(endpointId);

async function endpoints(tenantId: string, url: string, n: number, extra: Record<string, unknown> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url, ...extra }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    ids.push(created.body.id);
  }
  return ids;
}

const statusOf = async (c: Client, workflowId: string) => (await c.workflow.getHandle(workflowId).describe().catch(() => undefined))?.status.name;

async function failedWith(messageId: string, endpointId: string, reason: RegExp | string): Promise<Row> {
  const row = await waitFor(async () => {
    const r = await rowOf(messageId, endpointId);
    return r?.status === 'failed' ? r : undefined;
  }, `the delivery to ${endpointId} to fail`, SECONDS);
  if (typeof reason === 'string') expect(row.failure_reason).toBe(reason);
  else expect(row.failure_reason).toMatch(reason);
  return row;
}

describe('runs that end without a word, with every task slot held', () => {
  it('terminated before and after the first task, cancelled, timed out: failed within seconds, then redelivered', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const r = await receiver(() => ({ status: 200, held }));
    try {
      const tenantId = uniqueTenant();
      const ids = await endpoints(tenantId, r.url(), 5);
      const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
      expect(sent.status).toBe(202);
      const messageId: string = sent.body.id;
      // Two first attempts hold both slots; the three other runs are started but cannot take their first task.
      await waitFor(() => r.received.length === 2, 'two first attempts holding both task slots');
      for (const id of ids) await waitFor(async () => (await statusOf(stack.temporal, deliveryWorkflowId(messageId, id))) === 'RUNNING', 'every delivery run to exist');
      const rows = await rowsOf(messageId);
      const claimed = ids.filter((id) => rows.get(id)?.run_id);
      const unclaimed = ids.filter((id) => rows.get(id)?.run_id === null);
      expect(claimed).toHaveLength(2);
      expect(unclaimed).toHaveLength(3);

      // A run started by hand with an execution timeout, for a delivery whose row is pending: it times out unbegun.
      const timedOut = { messageId: `msg_${randomUUID()}`, endpointId: ids[0]! };
      await insertMessage(stack.db, { id: timedOut.messageId, tenantId, eventType: 'sync.completed', payloadJson: '{}', channels: [] });
      await createDeliveries(stack.db, timedOut.messageId, [timedOut.endpointId]);
      await stack.temporal.workflow.start('deliveryWorkflow', {
        taskQueue: stack.config.temporal.taskQueue,
        workflowId: deliveryWorkflowId(timedOut.messageId, timedOut.endpointId),
        args: [{ ...timedOut, tenantId, eventType: 'sync.completed' }],
        workflowExecutionTimeout: '1s',
      });

      const handle = (id: string) => stack.temporal.workflow.getHandle(deliveryWorkflowId(messageId, id));
      await handle(claimed[0]!).terminate('an operator stopped it');
      await handle(unclaimed[0]!).terminate('an operator stopped it');
      await handle(unclaimed[1]!).cancel();

      await failedWith(messageId, claimed[0]!, 'terminated: an operator stopped it');
      await failedWith(messageId, unclaimed[0]!, 'terminated: an operator stopped it');
      await failedWith(timedOut.messageId, timedOut.endpointId, /^timed out/);
      // All of that while both slots were still held.
      expect(r.received).toHaveLength(2);

      const again = await stack.request('POST', `/events/${messageId}/redeliver`, { endpointId: unclaimed[0] });
      expect(again.status, JSON.stringify(again.body)).toBe(202);
      expect((await stack.request('POST', `/events/${timedOut.messageId}/redeliver`, { endpointId: timedOut.endpointId })).status).toBe(202);

      // A cancellation is a request the run handles in its first task, once a slot is free.
      release();
      await failedWith(messageId, unclaimed[1]!, /^cancelled/);
      await waitFor(async () => (await rowOf(messageId, unclaimed[0]!))?.status === 'succeeded', 'the redelivered run to deliver');
      await waitFor(async () => (await rowOf(timedOut.messageId, timedOut.endpointId))?.status === 'succeeded', 'the redelivered timed-out delivery');
      // The terminated run's attempt still ran to its end and was recorded; the row stays as the reconciler left it.
      expect((await rowOf(messageId, claimed[0]!))?.status).toBe('failed');
      await waitFor(async () => [...(await rowsOf(messageId)).values()].every((x) => x.status !== 'pending'), 'every delivery of the message to end');
      expect((await stack.request('POST', `/events/${messageId}/redeliver`, {})).status).toBe(202);
    } finally {
      release();
    }
  });

  it('a message run terminated between recording its deliveries and starting them fails them, naming why', async () => {
    const r = await receiver();
    const tenantId = uniqueTenant();
    const ids = await endpoints(tenantId, r.url(), 2);
    // resolveEndpoints waits on this lock to write the rows, so the run is terminated right in between.
    const lock = await stack.db.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE deliveries IN EXCLUSIVE MODE');
      const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
      const messageId: string = sent.body.id;
      await waitFor(async () => {
        const { rows } = await stack.db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO deliveries%'`);
        return rows.length > 0;
      }, 'resolveEndpoints to wait for the lock');
      await stack.temporal.workflow.getHandle(messageWorkflowId(messageId)).terminate('stopped mid fan-out');
      await lock.query('COMMIT');
      await waitFor(async () => (await rowsOf(messageId)).size === 2, 'the rows resolveEndpoints wrote');
      for (const id of ids) await failedWith(messageId, id, /^never started: terminated: stopped mid fan-out/);
      expect(await statusOf(stack.temporal, deliveryWorkflowId(messageId, ids[0]!))).toBeUndefined();
      expect((await stack.request('POST', `/events/${messageId}/redeliver`, {})).status).toBe(202);
      await waitFor(() => r.received.length === 2, 'the redelivery to both');
    } finally {
      lock.release();
    }
  });
});

describe('the newest run owns the row', () => {
  it('an operator reset (FirstWorkflowTask) of a retrying delivery: the reset run delivers, the run reset away does not fail it', async () => {
    let failing = true;
    const r = await receiver(() => ({ status: failing ? 500 : 200 }));
    const tenantId = uniqueTenant();
    const [endpointId] = await endpoints(tenantId, r.url(), 1, { retrySchedule: ['1h'] });
    const messageId: string = (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id;
    await waitFor(async () => (await rowOf(messageId, endpointId!))?.attempts === 1, 'the first attempt to fail');
    const workflowId = deliveryWorkflowId(messageId, endpointId!);
    const old = await stack.temporal.workflow.getHandle(workflowId).describe();
    const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
    const firstTask = history.events!.find((e) => e.workflowTaskCompletedEventAttributes)!.eventId!;
    failing = false;
    const { runId } = await stack.temporal.workflowService.resetWorkflowExecution({
      namespace: 'default', workflowExecution: { workflowId, runId: old.runId }, reason: 'endpoint fixed', workflowTaskFinishEventId: firstTask, requestId: randomUUID(),
    });
    const done = await waitFor(async () => {
      const row = await rowOf(messageId, endpointId!);
      return row?.status === 'succeeded' ? row : undefined;
    }, 'the reset run to deliver', SECONDS);
    expect(done.run_id).toBe(runId);
    expect(await statusOf(stack.temporal, workflowId)).toBe('COMPLETED');
  });

  it('a row as version 1 left it (no run claimed it), its run terminated: failed, and redeliver works', async () => {
    const r = await receiver(() => ({ status: 500 }));
    const tenantId = uniqueTenant();
    const [endpointId] = await endpoints(tenantId, r.url(), 1, { retrySchedule: ['1h'] });
    const messageId: string = (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id;
    await waitFor(async () => (await rowOf(messageId, endpointId!))?.attempts === 1, 'the first attempt to fail');
    await stack.db.query('UPDATE deliveries SET run_id = NULL, claimed_at = NULL WHERE message_id = $1', [messageId]);
    await stack.temporal.workflow.getHandle(deliveryWorkflowId(messageId, endpointId!)).terminate('version 1 run stopped');
    await failedWith(messageId, endpointId!, 'terminated: version 1 run stopped');
    expect((await stack.request('POST', `/events/${messageId}/redeliver`, { endpointId })).status).toBe(202);
  });
});

describe('the walk through quiet pending rows', () => {
  it('fails rows whose run visibility never showed it, and leaves rows whose run still runs', async () => {
    const tenantId = uniqueTenant();
    const [endpointId] = await endpoints(tenantId, 'http://127.0.0.1:9/hook', 1);
    const make = async () => {
      const messageId = `msg_${randomUUID()}`;
      await insertMessage(stack.db, { id: messageId, tenantId, eventType: 'sync.completed', payloadJson: '{}', channels: [] });
      await createDeliveries(stack.db, messageId, [endpointId!]);
      return messageId;
    };
    // Rows the fast look cannot see: no run at all, and runs on a task queue no worker polls (another queue's visibility).
    const [never, terminated, running] = [await make(), await make(), await make()];
    const elsewhere = { taskQueue: `nobody-${randomUUID()}` };
    for (const messageId of [terminated, running]) {
      await stack.temporal.workflow.start('deliveryWorkflow', {
        ...elsewhere, workflowId: deliveryWorkflowId(messageId, endpointId!), args: [{ messageId, endpointId, tenantId, eventType: 'sync.completed' }],
      });
    }
    await stack.temporal.workflow.getHandle(deliveryWorkflowId(terminated, endpointId!)).terminate('gone quietly');
    const walk = createReconciliation({ client: stack.temporal, db: stack.db, taskQueue: stack.config.temporal.taskQueue, log: createLogger('silent'), quietMs: 0 });
    await walk.walkOnce();
    expect((await rowOf(never, endpointId!))).toMatchObject({ status: 'failed', failure_reason: 'never started: the fan-out of its message ended before starting this delivery' });
    expect((await rowOf(terminated, endpointId!))).toMatchObject({ status: 'failed', failure_reason: 'terminated: gone quietly' });
    expect((await rowOf(running, endpointId!))?.status).toBe('pending');
    await stack.temporal.workflow.getHandle(deliveryWorkflowId(running, endpointId!)).terminate('test over');
  });
});
