import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { deliveryWorkflowId, messageWorkflowId } from '../../workflows/ids';
import { killTree, type HookflowProcess } from '../support/processes';
import { receiversClosedAfterEach, waitFor } from '../support/receiver';
import { buildEndpoint, buildEvent, startTestStack, uniqueTenant, type TestStack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';

/**
 * A worker killed between writing to Postgres and telling Temporal (issue 16, items 2 and 3): the work
 * runs again on another worker, and must not send or record a finished attempt again, nor leave a row
 * behind that nothing will end. The moment is forced: the worker reaches Temporal through a proxy that the
 * test cuts while the write it waits for is held (a receiver that has not answered, a table lock), then
 * the write is let through, seen in Postgres, and the worker is SIGKILLed.
 */
let proxy: TcpProxy;
let stack: TestStack;
const workers: HookflowProcess[] = [];
const receiver = receiversClosedAfterEach();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

beforeAll(async () => {
  proxy = await TcpProxy.start(inject('temporalAddress'));
  // The API reaches Temporal through the proxy too, so a test can make a workflow start fail.
  stack = await startTestStack({}, { roles: ['api'], route: ({ databaseUrl }) => Promise.resolve({ databaseUrl, temporalAddress: proxy.address }) });
});
afterEach(async () => {
  await proxy.restore();
  while (workers.length > 0) await killTree(workers.pop()!);
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

/** `hookflow worker`, as an operator runs it, on the stack's database and task queue, reaching Temporal through the proxy. */
async function startWorker(): Promise<HookflowProcess> {
  const child = spawn(process.execPath, ['bin/hookflow.js', 'worker'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: stack.config.databaseUrl!,
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
      ALLOW_PRIVATE_NETWORK: 'true',
      DELIVERY_TIMEOUT: '5s',
      RETRY_INITIAL_INTERVAL: '250ms',
      RETRY_MAX_INTERVAL: '1s',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const worker = { child, output: () => output, exited };
  workers.push(worker);
  await waitFor(() => (/hookflow worker ready/.test(output) ? true : child.exitCode !== null ? Promise.reject(new Error(output)) : undefined), 'the worker to start', 60_000);
  return worker;
}

async function kill(worker: HookflowProcess): Promise<void> {
  await killTree(worker);
  workers.splice(workers.indexOf(worker), 1);
}

const count = async (sql: string, params: unknown[]) => (await stack.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql}) x`, params)).rows[0]!.n;
const statusOf = async (workflowId: string) => (await stack.temporal.workflow.getHandle(workflowId).describe().catch(() => undefined))?.status.name;
type Row = { status: string; attempts: number; failure_reason: string | null };
const rowOf = async (messageId: string, endpointId: string) =>
  (await stack.db.query<Row>('SELECT * FROM deliveries WHERE message_id = $1 AND endpoint_id = $2', [messageId, endpointId])).rows[0];

async function endpoint(tenantId: string, url: string): Promise<string> {
  const created = await stack.request('POST', '/endpoints', buildEndpoint({ tenantId, url }));
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

/** Holds the receiver's answer to request `index` until the test lets it go, and answers the others `others`. */
function holdRequest(index: number, others = 200) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  return { answer: (_: unknown, i: number) => (i === index ? { status: 200, held } : { status: others }), release };
}

/** The attempt in flight is recorded with Temporal out of reach, then its worker dies; another takes over. */
async function killAfterRecording(worker: HookflowProcess, release: () => void, messageId: string, attempts: number): Promise<void> {
  await proxy.cut();
  release();
  await waitFor(async () => (await count('SELECT 1 FROM attempts WHERE message_id = $1', [messageId])) === attempts, 'the attempt to be recorded');
  await kill(worker);
  await proxy.restore();
  await startWorker();
}

describe('an attempt recorded, then its worker killed before Temporal heard of it', () => {
  // The inline first attempt's task times out on the dead worker (10 s); a retry's activity after DELIVERY_TIMEOUT + 10 s.
  it.each([
    { attempt: 'the inline first attempt', attempts: 1, before: 200, timeoutMs: 60_000 },
    { attempt: 'a retry', attempts: 2, before: 500, timeoutMs: 90_000 },
  ])('$attempt runs again: nothing is sent or recorded again, and the run completes as the row says', async ({ attempts, before, timeoutMs }) => {
    const hold = holdRequest(attempts - 1, before);
    const r = await receiver(hold.answer);
    const tenantId = uniqueTenant();
    const endpointId = await endpoint(tenantId, r.url());
    const w1 = await startWorker();
    const messageId: string = (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id;
    await waitFor(() => r.received.length === attempts, 'the attempt to be in flight');
    await killAfterRecording(w1, hold.release, messageId, attempts);
    await waitFor(async () => (await statusOf(deliveryWorkflowId(messageId, endpointId))) === 'COMPLETED', 'the delivery to complete on the new worker', timeoutMs);
    expect(r.received).toHaveLength(attempts);
    expect(await count('SELECT 1 FROM attempts WHERE message_id = $1', [messageId])).toBe(attempts);
    expect(await rowOf(messageId, endpointId)).toMatchObject({ status: 'succeeded', attempts });
  });
});

describe('no orphan rows', () => {
  it('resolveEndpoints run again after endpoints were disabled and deleted in between leaves none of their rows', async () => {
    const r = await receiver();
    const tenantId = uniqueTenant();
    const [kept, disabled, deleted] = [await endpoint(tenantId, r.url()), await endpoint(tenantId, r.url()), await endpoint(tenantId, r.url())];
    const w1 = await startWorker();
    const lock = await stack.db.connect();
    try {
      // resolveEndpoints has matched its endpoints and waits on this lock to write their rows.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE deliveries IN EXCLUSIVE MODE');
      const messageId: string = (await stack.request('POST', '/events', buildEvent({ tenantId }))).body.id;
      await waitFor(async () => (await count(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO deliveries%'`, [])) > 0, 'resolveEndpoints to wait for the lock');
      await proxy.cut();
      expect((await stack.request('PATCH', `/endpoints/${disabled}`, { disabled: true })).status).toBe(200);
      expect((await stack.request('DELETE', `/endpoints/${deleted}`)).status).toBe(204);
      await lock.query('COMMIT');
      await waitFor(async () => (await count('SELECT 1 FROM deliveries WHERE message_id = $1', [messageId])) === 3, 'the first resolution\'s rows');
      await kill(w1);
      await proxy.restore();
      await startWorker();
      await waitFor(async () => (await statusOf(messageWorkflowId(messageId))) === 'COMPLETED', 'the message workflow to resolve again and complete', 60_000);
      await waitFor(async () => (await rowOf(messageId, kept))?.status === 'succeeded', 'the delivery to the endpoint still enabled');
      expect(await rowOf(messageId, disabled)).toBeUndefined();
      expect(await rowOf(messageId, deleted)).toBeUndefined();
      expect(r.received).toHaveLength(1);
    } finally {
      lock.release();
    }
  });

  it('POST /endpoints/:id/test whose workflow start fails: 503, and no pending row', async () => {
    const tenantId = uniqueTenant();
    const endpointId = await endpoint(tenantId, 'http://127.0.0.1:9/hook');
    await proxy.cut();
    const answer = await stack.request('POST', `/endpoints/${endpointId}/test`, {});
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(await count(`SELECT 1 FROM deliveries WHERE endpoint_id = $1`, [endpointId])).toBe(0);
  });
});
