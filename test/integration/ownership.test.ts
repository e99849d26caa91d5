import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { EncryptionKey, createSecretBox } from '../../src/secrets/secret-box';
import { deliveryWorkflowId } from '../../workflows/ids';
import { receiversClosedAfterEach, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * One delivery, one truth: a delivery's row in Postgres belongs to the run of its workflow that claimed
 * it last, only that run moves it, a finished row never goes back, and runs that end without a word
 * (terminated, cancelled) are recorded as failed with the reason. Each race is forced, not waited for.
 */
let stack: TestStack;
const receiver = receiversClosedAfterEach();
beforeAll(async () => {
  stack = await startTestStack({
    RETRY_INITIAL_INTERVAL: '250ms',
    RETRY_MAX_INTERVAL: '1s',
    RETRY_EXPIRY: '1h',
    HOOKFLOW_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  });
});
afterAll(() => stack?.stop());

type Row = { status: string; run_id: string | null; failure_reason: string | null; attempts: number };
async function row(messageId: string, endpointId: string): Promise<Row> {
  const { rows } = await stack.db.query<Row>(
    'SELECT status, run_id, failure_reason, attempts FROM deliveries WHERE message_id = $1 AND endpoint_id = $2',
    [messageId, endpointId],
  );
  return rows[0]!;
}

/** An endpoint of a new tenant and one event to it; returns their ids and the delivery's workflow handle. */
async function oneDelivery(url: string, endpoint: Record<string, unknown> = {}) {
  const tenantId = uniqueTenant();
  const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url, ...endpoint }));
  expect(ep.status, JSON.stringify(ep.body)).toBe(201);
  const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
  expect(sent.status).toBe(202);
  const handle = stack.temporal.workflow.getHandle(deliveryWorkflowId(sent.body.id, ep.body.id));
  return { tenantId, endpointId: ep.body.id as string, messageId: sent.body.id as string, handle };
}

const statusOf = async (h: { describe(): Promise<{ status: { name: string } }> }) => (await h.describe().catch(() => undefined))?.status.name;

describe('runs that end without a word', () => {
  it('a terminated delivery shows failed within seconds, with the reason', async () => {
    const r = await receiver(() => ({ status: 500 }));
    const d = await oneDelivery(r.url());
    await waitFor(() => r.received.length >= 2, 'a retrying delivery');
    await d.handle.terminate('an operator stopped it');
    const ended = await waitFor(async () => ((await row(d.messageId, d.endpointId)).status === 'failed' ? row(d.messageId, d.endpointId) : undefined), 'the row to fail', 15_000);
    expect(ended.failure_reason).toBe('terminated: an operator stopped it');
    const event = await stack.request('GET', `/events/${d.messageId}`);
    expect(event.body.deliveries[0].status).toBe('failed');
  });

  it('a cancelled delivery records its own end, as failed', async () => {
    const r = await receiver(() => ({ status: 500 }));
    const d = await oneDelivery(r.url());
    await waitFor(() => r.received.length >= 2, 'a retrying delivery');
    await d.handle.cancel();
    await waitFor(async () => (await statusOf(d.handle)) === 'CANCELLED', 'the workflow to be cancelled');
    const ended = await row(d.messageId, d.endpointId);
    expect(ended.status).toBe('failed');
    expect(ended.failure_reason).toMatch(/^cancelled/);
  });
});

describe('a finished row never goes back', () => {
  it('an attempt that ends after the expiry failed the delivery leaves it failed', async () => {
    const expiring = await startTestStack({ RETRY_INITIAL_INTERVAL: '250ms', RETRY_EXPIRY: '2s', DELIVERY_TIMEOUT: '20s' });
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      // The first attempt fails; the second hangs past the expiry until the test lets it answer.
      const r = await receiver((_req, index) => (index === 0 ? { status: 500 } : { status: 500, held }));
      const tenantId = uniqueTenant();
      const ep = await expiring.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url() }));
      const sent = await expiring.request('POST', '/events', buildEvent({ tenantId }));
      const handle = expiring.temporal.workflow.getHandle(deliveryWorkflowId(sent.body.id, ep.body.id));
      await waitFor(async () => (await statusOf(handle)) === 'FAILED', 'the delivery to expire', 30_000);
      const rowOf = async () => (await expiring.db.query<Row>('SELECT * FROM deliveries WHERE message_id = $1', [sent.body.id])).rows[0]!;
      expect((await rowOf()).status).toBe('failed');
      expect((await rowOf()).failure_reason).toMatch(/^expired/);
      release();
      await waitFor(async () => (await expiring.db.query('SELECT 1 FROM attempts WHERE message_id = $1', [sent.body.id])).rowCount === 2, 'the late attempt to be recorded');
      const after = await rowOf();
      expect(after.status).toBe('failed');
      expect(after.failure_reason).toMatch(/^expired/);
    } finally {
      await expiring.stop();
    }
  });
});

describe('redeliveries claim the row themselves', () => {
  it('redeliver while the run is still closing: 409, and the row stays as it was', async () => {
    const r = await receiver(() => ({ status: 500 }));
    // No attempt while the test runs: an attempt would find the row ended and close the run as it says.
    const d = await oneDelivery(r.url(), { retrySchedule: ['1h'] });
    await waitFor(async () => (await row(d.messageId, d.endpointId)).attempts === 1, 'the first attempt to fail');
    // The window between a run recording its end and closing, forced: the row says failed, the run runs.
    await stack.db.query(`UPDATE deliveries SET status = 'failed', failure_reason = 'forced' WHERE message_id = $1`, [d.messageId]);
    const answer = await stack.request('POST', `/events/${d.messageId}/redeliver`, { endpointId: d.endpointId });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('conflict');
    expect((await row(d.messageId, d.endpointId)).status).toBe('failed');
    await d.handle.terminate('test over');
  });

  it('recover in that window starts the new run once the old one has closed, and it delivers', async () => {
    let failing = true;
    const r = await receiver(() => ({ status: failing ? 500 : 200 }));
    const d = await oneDelivery(r.url(), { retrySchedule: ['1h'] });
    await waitFor(async () => (await row(d.messageId, d.endpointId)).attempts === 1, 'the first attempt to fail');
    const oldRun = (await row(d.messageId, d.endpointId)).run_id;
    const since = new Date(Date.now() - 60_000).toISOString();
    await stack.db.query(`UPDATE deliveries SET status = 'failed', failure_reason = 'forced' WHERE message_id = $1`, [d.messageId]);
    const recovered = await stack.request('POST', `/endpoints/${d.endpointId}/recover`, { since });
    expect(recovered.body).toEqual({ count: 1 });
    // The recovery waits for the old run; the row is never pending without a run behind it meanwhile.
    expect((await row(d.messageId, d.endpointId)).status).toBe('failed');
    failing = false;
    await d.handle.terminate('the old run ends');
    const done = await waitFor(async () => {
      const now = await row(d.messageId, d.endpointId);
      return now.status === 'succeeded' ? now : undefined;
    }, 'the recovered delivery', 30_000);
    expect(done.run_id).not.toBe(oldRun);
    expect(done.attempts).toBe(1);
  });
});

describe('an endpoint whose secret cannot be read', () => {
  it('fails its delivery at once, non-retryably, saying which key to set', async () => {
    const r = await receiver();
    const tenantId = uniqueTenant();
    const ep = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: r.url() }));
    const foreign = createSecretBox({ current: new EncryptionKey(randomBytes(32)) });
    await stack.db.query('UPDATE endpoints SET secret = $2 WHERE id = $1', [ep.body.id, foreign.seal(`whsec_${randomBytes(32).toString('base64')}`, ep.body.id)]);
    const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
    const handle = stack.temporal.workflow.getHandle(deliveryWorkflowId(sent.body.id, ep.body.id));
    await waitFor(async () => (await statusOf(handle)) === 'FAILED', 'the delivery to fail');
    const failure = await handle.result().then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause?.cause as { type?: string } | undefined)?.type).toBe('SecretUnreadable');
    const ended = await row(sent.body.id, ep.body.id);
    expect(ended.status).toBe('failed');
    expect(ended.failure_reason).toContain('HOOKFLOW_ENCRYPTION_KEY');
    expect(r.received).toHaveLength(0);
  });
});

describe('slow receivers', () => {
  it('sixty deliveries held by one receiver do not hold up a delivery to another', async () => {
    // The first attempt runs inside its workflow's task; slow receivers must not take every task slot.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = await receiver(() => ({ status: 200, held }));
    const fast = await receiver();
    try {
      const slowTenant = uniqueTenant();
      const slowEndpoint = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId: slowTenant, url: slow.url() }));
      for (let i = 0; i < 60; i += 1) expect((await stack.request('POST', '/events', buildEvent({ tenantId: slowTenant }))).status).toBe(202);
      await waitFor(() => slow.received.length === 60, 'sixty held deliveries', 60_000);
      const fastTenant = uniqueTenant();
      await stack.request('POST', '/endpoints', buildEndpoint({ tenantId: fastTenant, url: fast.url() }));
      await stack.request('POST', '/events', buildEvent({ tenantId: fastTenant }));
      await waitFor(() => fast.received.length === 1, 'the delivery to the other receiver, while the sixty are held');
      release();
      await waitFor(async () => {
        const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [slowEndpoint.body.id]);
        return rows[0].n === 60;
      }, 'the sixty to succeed once released');
    } finally {
      release();
    }
  });
});
