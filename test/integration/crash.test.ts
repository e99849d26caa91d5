import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { freePort } from '../../src/embedded-postgres';
import { createTestDatabase } from '../support/database';
import { killTree, startNpm, type HookflowProcess } from '../support/processes';
import { Receiver, waitFor } from '../support/receiver';

/**
 * A 202 is a promise: SIGKILL in the middle of deliveries, start again, and count what was accepted,
 * delivered, lost and duplicated. Figures are printed for RELIABILITY.md.
 */
const running: HookflowProcess[] = [];
afterAll(async () => {
  for (const p of running) await killTree(p);
});

async function sendUntil(apiUrl: string, key: string, tenantId: string, stop: () => boolean, accepted: string[]): Promise<void> {
  const workers = Array.from({ length: 4 }, async () => {
    while (!stop()) {
      try {
        const r = await fetch(`${apiUrl}/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tenantId, type: 'sync.completed', payload: { n: accepted.length } }),
        });
        if (r.status === 202) accepted.push(((await r.json()) as { id: string }).id);
      } catch {
        return; // the process is gone
      }
    }
  });
  await Promise.all(workers);
}

function tally(accepted: string[], receiver: Receiver) {
  const counts = new Map<string, number>();
  for (const r of receiver.received) counts.set(String(r.headers['webhook-id']), (counts.get(String(r.headers['webhook-id'])) ?? 0) + 1);
  const delivered = accepted.filter((id) => counts.has(id)).length;
  const duplicated = accepted.reduce((sum, id) => sum + Math.max(0, (counts.get(id) ?? 0) - 1), 0);
  return { accepted: accepted.length, delivered, lost: accepted.length - delivered, duplicated };
}

describe('SIGKILL of the whole npm start tree', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-crash-'));
  chmodSync(dataDir, 0o755);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('delivers every accepted event after a restart on the same data dir', async () => {
    const receiver = await Receiver.start(() => ({ status: 200, delayMs: 200 }));
    try {
      const env = {
        HOOKFLOW_DATA_DIR: dataDir, PORT: '0', API_KEYS: 'crash-key', ALLOW_PRIVATE_NETWORK: 'true', LOG_LEVEL: 'info',
        TEMPORAL_CLI_PATH: inject('temporalBinary'), TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_UI_PORT: String(await freePort()),
        RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '2s',
      };
      const first = await startNpm('start', env, /"api":"http/);
      running.push(first);
      const auth = { authorization: 'Bearer crash-key', 'content-type': 'application/json' };
      await fetch(`${first.apiUrl}/endpoints`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'crash', url: receiver.url() }) });

      const accepted: string[] = [];
      let killed = false;
      const sending = sendUntil(first.apiUrl!, 'crash-key', 'crash', () => killed, accepted);
      await waitFor(() => accepted.length >= 40 && receiver.received.length >= 5, 'deliveries in flight', 60_000);
      killed = true;
      await killTree(first);
      await sending;
      const beforeRestart = tally(accepted, receiver);
      expect(beforeRestart.lost).toBeGreaterThan(0); // the kill really landed mid-flight

      const second = await startNpm('start', env, /"api":"http/);
      running.push(second);
      await waitFor(() => tally(accepted, receiver).lost === 0, 'every accepted event to be delivered', 120_000);
      const figures = tally(accepted, receiver);
      console.log(`[reliability] SIGKILL npm start: ${JSON.stringify({ ...figures, undeliveredAtKill: beforeRestart.lost })}`);
      expect(figures.lost).toBe(0);
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 400_000);
});

describe('SIGKILL of the worker alone', () => {
  it('a new worker completes every delivery', async () => {
    const receiver = await Receiver.start(() => ({ status: 200, delayMs: 500 }));
    const database = await createTestDatabase(inject('adminDatabaseUrl'));
    try {
      const env = {
        DATABASE_URL: database.url, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: `crash-${Date.now()}`,
        PORT: '0', API_KEYS: 'crash-key', ALLOW_PRIVATE_NETWORK: 'true', LOG_LEVEL: 'info', DELIVERY_TIMEOUT: '2s',
        RETRY_INITIAL_INTERVAL: '1s', RETRY_MAX_INTERVAL: '2s',
      };
      const api = await startNpm('api', env, /"url":"http[^"]+","msg":"API listening"/);
      running.push(api);
      const worker = await startNpm('worker', env, /worker running/);
      running.push(worker);
      const auth = { authorization: 'Bearer crash-key', 'content-type': 'application/json' };
      await fetch(`${api.apiUrl}/endpoints`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'crash', url: receiver.url() }) });
      const accepted: string[] = [];
      for (let i = 0; i < 30; i += 1) {
        const r = await fetch(`${api.apiUrl}/events`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'crash', type: 'a.b', payload: { i } }) });
        expect(r.status).toBe(202);
        accepted.push(((await r.json()) as { id: string }).id);
      }
      await waitFor(() => receiver.received.length >= 5, 'deliveries in flight');
      await killTree(worker);
      const atKill = tally(accepted, receiver);
      expect(atKill.lost).toBeGreaterThan(0);

      const replacement = await startNpm('worker', env, /worker running/);
      running.push(replacement);
      await waitFor(() => tally(accepted, receiver).lost === 0, 'every delivery to complete', 120_000);
      console.log(`[reliability] SIGKILL worker: ${JSON.stringify({ ...tally(accepted, receiver), undeliveredAtKill: atKill.lost })}`);
      await killTree(replacement);
      await killTree(api);
    } finally {
      await receiver.close();
      await database.drop();
    }
  }, 300_000);
});
