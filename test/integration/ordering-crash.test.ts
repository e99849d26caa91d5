import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arrivals, expectInOrder } from '../support/order';
import { crashEnv, killTree, startNpm, type HookflowProcess } from '../support/processes';
import { Receiver, waitFor } from '../support/receiver';

/**
 * Ordered delivery survives a crash of everything: SIGKILL of the whole `npm start` tree (API, worker,
 * embedded Temporal and Postgres) halfway through a FIFO endpoint's queue, then a start on the same data.
 */
const running: HookflowProcess[] = [];
afterAll(async () => {
  for (const p of running) await killTree(p);
});

describe('SIGKILL of the whole npm start tree halfway through 100 FIFO events', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-fifo-crash-'));
  chmodSync(dataDir, 0o755);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('delivers all of them after a restart: first copies in order, no copy after a later message', async () => {
    // A receiver slow enough that the queue is still long when the kill lands.
    const receiver = await Receiver.start(() => ({ status: 200, delayMs: 100 }));
    try {
      const env = await crashEnv(dataDir);
      const first = await startNpm('start', env, /"api":"http/);
      running.push(first);
      const auth = { authorization: 'Bearer crash-key', 'content-type': 'application/json' };
      const created = await fetch(`${first.apiUrl}/endpoints`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'fifo-crash', url: receiver.url(), ordering: 'fifo' }) });
      expect(created.status).toBe(201);

      const accepted: string[] = [];
      for (let n = 0; n < 100; n += 1) {
        const r = await fetch(`${first.apiUrl}/events`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'fifo-crash', type: 'order.updated', payload: { n } }) });
        expect(r.status).toBe(202);
        accepted.push(((await r.json()) as { id: string }).id);
      }
      await waitFor(() => new Set(arrivals(receiver.received)).size >= 30, 'deliveries under way', 120_000);
      await killTree(first);
      const atKill = new Set(arrivals(receiver.received)).size;
      expect(atKill, 'the kill landed halfway').toBeLessThan(100);

      const second = await startNpm('start', env, /"api":"http/);
      running.push(second);
      await waitFor(() => new Set(arrivals(receiver.received)).size === 100, 'all 100 after the restart', 240_000);
      const got = arrivals(receiver.received);
      console.log(`[reliability] SIGKILL npm start, FIFO: ${JSON.stringify({ accepted: 100, deliveredAtKill: atKill, received: got.length, duplicates: got.length - 100 })}`);
      expectInOrder(got, accepted);
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 500_000);
});
