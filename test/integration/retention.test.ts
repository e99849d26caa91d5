import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { createLogger } from '../../src/observability/logger';
import { PURGE_BATCH } from '../../src/db/retention';
import { ensureRetentionSchedule, retentionScheduleId } from '../../src/temporal/retention-schedule';
import { Receiver, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';

/**
 * Retention: the worker creates a Schedule that runs retentionWorkflow every RETENTION_INTERVAL; it
 * deletes messages older than RETENTION with their deliveries and attempts, in batches. Messages are
 * made old by moving their created_at back, so the test does not depend on how fast the machine is.
 */
let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  stack = await startTestStack({ RETENTION: '1h', RETRY_EXPIRY: '1m', RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '1s' });
  receiver = await Receiver.start();
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

const scheduleId = () => retentionScheduleId(stack.config.temporal.taskQueue);

async function count(sql: string, ids: string[]): Promise<number> {
  const { rows } = await stack.db.query<{ n: string }>(sql, [ids]);
  return Number(rows[0]!.n);
}
const messagesOf = (ids: string[]) => count('SELECT count(*) AS n FROM messages WHERE id = ANY($1)', ids);
const attemptsOf = (ids: string[]) => count('SELECT count(*) AS n FROM attempts WHERE message_id = ANY($1)', ids);
const deliveriesOf = (ids: string[]) => count('SELECT count(*) AS n FROM deliveries WHERE message_id = ANY($1)', ids);

/** Triggers the schedule and returns what the run it started purged. */
async function runRetention(): Promise<{ messages: number; deliveries: number; attempts: number }> {
  const schedule = stack.temporal.schedule.getHandle(scheduleId());
  const before = (await schedule.describe()).info.recentActions.length;
  await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  const action = await waitFor(async () => (await schedule.describe()).info.recentActions[before], 'the triggered retention run');
  return stack.temporal.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId).result();
}

describe('retention', () => {
  it('the worker created the schedule: retentionWorkflow every RETENTION_INTERVAL, skipping overlaps', async () => {
    const description = await stack.temporal.schedule.getHandle(scheduleId()).describe();
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionWorkflow', taskQueue: stack.config.temporal.taskQueue, args: [{ retentionMs: 3_600_000 }] });
    expect(description.spec.intervals?.map((i) => i.every)).toEqual([3_600_000]);
    expect(description.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
  });

  it('purges delivered messages older than RETENTION with their attempts and deliveries, and keeps newer ones', async () => {
    const tenantId = uniqueTenant();
    const endpoint = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url: receiver.url() }));
    expect(endpoint.status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const sent = await stack.request('POST', '/events', buildEvent({ tenantId }));
      expect(sent.status).toBe(202);
      ids.push(sent.body.id);
    }
    await waitFor(async () => (await attemptsOf(ids)) === 4 && (await count("SELECT count(*) AS n FROM deliveries WHERE message_id = ANY($1) AND status = 'succeeded'", ids)) === 4, 'four delivered messages');
    const [old, fresh] = [ids.slice(0, 2), ids.slice(2)];
    // 61 minutes back: past RETENTION. The fresh ones stay just inside it.
    await stack.db.query("UPDATE messages SET created_at = now() - interval '61 minutes' WHERE id = ANY($1)", [old]);
    await stack.db.query("UPDATE messages SET created_at = now() - interval '50 minutes' WHERE id = ANY($1)", [fresh]);

    const purged = await runRetention();

    expect(purged).toEqual({ messages: 2, deliveries: 2, attempts: 2 });
    expect([await messagesOf(old), await attemptsOf(old), await deliveriesOf(old)]).toEqual([0, 0, 0]);
    expect([await messagesOf(fresh), await attemptsOf(fresh), await deliveriesOf(fresh)]).toEqual([2, 2, 2]);
    expect((await stack.request('GET', `/events/${old[0]}`)).status).toBe(404);
    expect((await stack.request('GET', `/events/${fresh[0]}`)).status).toBe(200);
    expect((await stack.request('GET', `/events/${fresh[0]}/attempts`)).body.data).toHaveLength(1);
  });

  it('works through a backlog larger than one batch, and child rows beyond one DELETE chunk', async () => {
    const prefix = `msg_backlog_${Date.now()}_`;
    const total = PURGE_BATCH * 2 + 500;
    await stack.db.query(
      `INSERT INTO messages (id, tenant_id, event_type, payload, created_at)
       SELECT $1 || g, 'backlog', 'x.y', '{}', now() - interval '2 days' - g * interval '1 second' FROM generate_series(1, $2) g`,
      [prefix, total],
    );
    // 6,000 attempts on 100 messages: more than one 5,000-row chunk of the attempt deletes.
    await stack.db.query(
      `INSERT INTO attempts (id, message_id, endpoint_id, attempt, status, duration_ms)
       SELECT 'atm_backlog_' || g, $1 || (g % 100 + 1), 'ep_gone', 1, 'failed', 5 FROM generate_series(1, 6000) g`,
      [prefix],
    );
    await stack.db.query(
      `INSERT INTO deliveries (message_id, endpoint_id, status) SELECT $1 || g, 'ep_gone', 'failed' FROM generate_series(1, $2) g`,
      [prefix, total],
    );
    const keep = `${prefix}keep`;
    await stack.db.query("INSERT INTO messages (id, tenant_id, event_type, payload) VALUES ($1, 'backlog', 'x.y', '{}')", [keep]);

    const purged = await runRetention();

    expect(purged).toEqual({ messages: total, deliveries: total, attempts: 6000 });
    const { rows } = await stack.db.query<{ id: string }>('SELECT id FROM messages WHERE id LIKE $1', [`${prefix}%`]);
    expect(rows.map((r) => r.id)).toEqual([keep]);
    const left = await stack.db.query("SELECT (SELECT count(*) FROM attempts WHERE endpoint_id = 'ep_gone') + (SELECT count(*) FROM deliveries WHERE endpoint_id = 'ep_gone') AS n");
    expect(Number(left.rows[0].n)).toBe(0);
  });

  it('never purges a message that still has a pending delivery, however old; purges it once the delivery ends', async () => {
    const prefix = `msg_pending_${Date.now()}_`;
    const [pending, done] = [`${prefix}pending`, `${prefix}done`];
    await stack.db.query(
      `INSERT INTO messages (id, tenant_id, event_type, payload, created_at) VALUES ($1, 'old', 'x.y', '{}', now() - interval '2 days'), ($2, 'old', 'x.y', '{}', now() - interval '2 days')`,
      [pending, done],
    );
    // The pending message went to two endpoints: one delivery still retries, the other has failed.
    await stack.db.query(
      `INSERT INTO deliveries (message_id, endpoint_id, status) VALUES ($1, 'ep_a', 'pending'), ($1, 'ep_b', 'failed'), ($2, 'ep_a', 'succeeded')`,
      [pending, done],
    );
    await stack.db.query(
      `INSERT INTO attempts (id, message_id, endpoint_id, attempt, status, duration_ms) VALUES ($1 || '_1', $1, 'ep_a', 1, 'failed', 5)`,
      [pending],
    );

    await runRetention();
    // Kept whole: the message, both its deliveries and its attempt.
    expect([await messagesOf([pending]), await deliveriesOf([pending]), await attemptsOf([pending])]).toEqual([1, 2, 1]);
    expect((await stack.request('GET', `/events/${pending}`)).body.deliveries).toContainEqual(expect.objectContaining({ endpointId: 'ep_a', status: 'pending' }));
    expect(await messagesOf([done])).toBe(0);

    await stack.db.query(`UPDATE deliveries SET status = 'failed' WHERE message_id = $1`, [pending]);
    const purged = await runRetention();
    expect(purged.messages).toBeGreaterThanOrEqual(1);
    expect([await messagesOf([pending]), await deliveriesOf([pending]), await attemptsOf([pending])]).toEqual([0, 0, 0]);
  });

  it('a worker starting with other settings updates the schedule instead of failing', async () => {
    const config = { ...stack.config, retention: { maxAgeMs: 7 * 86_400_000, intervalMs: 15 * 60_000 } };
    await ensureRetentionSchedule({ address: stack.config.temporal.address!, config, log: createLogger('silent') });
    const description = await stack.temporal.schedule.getHandle(scheduleId()).describe();
    expect(description.action).toMatchObject({ args: [{ retentionMs: 7 * 86_400_000 }] });
    expect(description.spec.intervals?.map((i) => i.every)).toEqual([15 * 60_000]);
    // Idempotent: the same settings again change nothing and raise nothing.
    await ensureRetentionSchedule({ address: stack.config.temporal.address!, config, log: createLogger('silent') });
  });
});
