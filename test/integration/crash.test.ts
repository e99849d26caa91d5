import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { createTestDatabase } from '../support/database';
import { crashEnv, killTree, processesOn, startNpm, type HookflowProcess } from '../support/processes';
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

/** Events at a steady pace while a part of the service is away: a 503 is not an acceptance, so it is simply sent again. */
async function stream(apiUrl: string, key: string, tenantId: string, stop: () => boolean, accepted: string[]): Promise<void> {
  const senders = Array.from({ length: 2 }, async () => {
    while (!stop()) {
      try {
        const r = await fetch(`${apiUrl}/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tenantId, type: 'sync.completed', payload: { n: accepted.length } }),
          signal: AbortSignal.timeout(10_000),
        });
        if (r.status === 202) accepted.push(((await r.json()) as { id: string }).id);
        else await new Promise((resolve) => setTimeout(resolve, 50));
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });
  await Promise.all(senders);
}

/** What /healthz and /readyz answer, four times a second, until stopped: counts, and each change with its time. */
function watchHealth(apiUrl: string) {
  const counts = { healthz: new Map<number, number>(), readyz: new Map<number, number>() };
  const last: Record<string, number> = {};
  const changes: string[] = [];
  const since = Date.now();
  let stopped = false;
  const ask = async (path: 'healthz' | 'readyz') => {
    const status = await fetch(`${apiUrl}/${path}`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);
    counts[path].set(status, (counts[path].get(status) ?? 0) + 1);
    if (last[path] !== status) changes.push(`${path} ${status} at ${((Date.now() - since) / 1000).toFixed(1)} s`);
    last[path] = status;
  };
  const loop = (async () => {
    while (!stopped) {
      await Promise.all([ask('healthz'), ask('readyz')]);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { healthz: Object.fromEntries(counts.healthz), readyz: Object.fromEntries(counts.readyz), changes };
    },
  };
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
      const env = await crashEnv(dataDir);
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

const EMBEDDED = [
  { name: 'Postgres', pid: /"postmasterPid":(\d+)/g },
  { name: 'Temporal dev server', pid: /"serverPid":(\d+)/g },
];

function lastPid(output: string, pattern: RegExp): number {
  const pids = [...output.matchAll(pattern)].map((m) => Number(m[1]));
  if (pids.length === 0) throw new Error(`no ${pattern.source} in the log`);
  return pids.at(-1)!;
}

/** The exit code, or an error with the end of the log if the process is still running after `ms`. */
async function exitCode(p: HookflowProcess, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${p.output().slice(-6_000)}`)), ms);
  });
  try {
    return await Promise.race([p.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe.each(EMBEDDED)('SIGKILL of the embedded $name while events stream in', ({ name, pid }) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-child-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('restarts it on the same data, keeps /healthz at 200 and /readyz at 200 or 503, and delivers every accepted event', async () => {
    const receiver = await Receiver.start(() => ({ status: 200, delayMs: 100 }));
    try {
      const p = await startNpm('start', await crashEnv(dataDir), /"api":"http/);
      running.push(p);
      const auth = { authorization: 'Bearer crash-key', 'content-type': 'application/json' };
      await fetch(`${p.apiUrl}/endpoints`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'child', url: receiver.url() }) });

      const accepted: string[] = [];
      let done = false;
      const sending = stream(p.apiUrl!, 'crash-key', 'child', () => done, accepted);
      await waitFor(() => accepted.length >= 20 && receiver.received.length >= 5, 'deliveries in flight', 60_000);
      const health = watchHealth(p.apiUrl!);
      process.kill(lastPid(p.output(), pid), 'SIGKILL');
      const atKill = tally(accepted, receiver);
      await waitFor(() => p.output().includes(`embedded ${name} restarted`), `the embedded ${name} to be restarted`, 120_000);
      const acceptedAtRestart = accepted.length;
      await waitFor(() => accepted.length >= acceptedAtRestart + 20, 'events accepted after the restart', 60_000);
      done = true;
      await sending;
      await waitFor(() => tally(accepted, receiver).lost === 0, 'every accepted event to be delivered', 120_000);
      await waitFor(async () => (await fetch(`${p.apiUrl}/readyz`)).status === 200 || undefined, '/readyz to say ready again');
      const seen = await health.stop();
      const figures = tally(accepted, receiver);
      console.log(`[reliability] SIGKILL embedded ${name}: ${JSON.stringify({ ...figures, undeliveredAtKill: atKill.lost, healthz: seen.healthz, readyz: seen.readyz, changes: seen.changes })}`);

      expect(figures.lost).toBe(0);
      // Alive throughout (it is repairing itself); ready or not, never an error or silence.
      expect(Object.keys(seen.healthz)).toEqual(['200']);
      expect(Object.keys(seen.readyz).filter((status) => status !== '200' && status !== '503')).toEqual([]);
      // Postgres is away for at least the 1 s before the restart, and /readyz's query fails at once. The
      // Temporal client retries within /readyz's 2 s deadline, and the dev server is back within about that.
      if (name === 'Postgres') expect(seen.readyz[503]).toBeGreaterThan(0);
      expect(p.output()).toMatch(new RegExp(`"reason":"signal SIGKILL".*"msg":"embedded ${name} died \\(signal SIGKILL\\); restarting it on the same data"`));
      process.kill(-p.child.pid!, 'SIGINT');
      expect(await p.exited).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 400_000);
});

describe('EMBEDDED_RESTARTS=0: a dead part stops hookflow', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-dead-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops the rest cleanly and exits 1; started again by its process manager, it delivers every accepted event', async () => {
    const receiver = await Receiver.start(() => ({ status: 200, delayMs: 100 }));
    try {
      const env = await crashEnv(dataDir, { EMBEDDED_RESTARTS: '0' });
      const first = await startNpm('start', env, /"api":"http/);
      running.push(first);
      const auth = { authorization: 'Bearer crash-key', 'content-type': 'application/json' };
      await fetch(`${first.apiUrl}/endpoints`, { method: 'POST', headers: auth, body: JSON.stringify({ tenantId: 'dead', url: receiver.url() }) });
      const accepted: string[] = [];
      let done = false;
      const sending = stream(first.apiUrl!, 'crash-key', 'dead', () => done, accepted);
      await waitFor(() => accepted.length >= 20 && receiver.received.length >= 5, 'deliveries in flight', 60_000);
      process.kill(lastPid(first.output(), EMBEDDED[0]!.pid), 'SIGKILL');

      expect(await exitCode(first, 60_000)).toBe(1);
      done = true;
      await sending;
      const atExit = tally(accepted, receiver);
      expect(first.output()).toContain('"msg":"stopping: embedded Postgres died (signal SIGKILL) and is not restarted again: EMBEDDED_RESTARTS=0 leaves restarts to the process manager"');
      expect(first.output()).toContain('stopped after the failure; exiting with code 1');
      // Stopped, not abandoned: the Temporal dev server and every Postgres process are gone.
      await waitFor(() => processesOn(dataDir).length === 0 || undefined, `no process left on the data dir: ${processesOn(dataDir).join('; ')}`, 20_000);

      const second = await startNpm('start', env, /"api":"http/);
      running.push(second);
      await waitFor(() => tally(accepted, receiver).lost === 0, 'every accepted event to be delivered', 120_000);
      const figures = tally(accepted, receiver);
      console.log(`[reliability] EMBEDDED_RESTARTS=0, SIGKILL embedded Postgres, exit 1, started again: ${JSON.stringify({ ...figures, undeliveredAtExit: atExit.lost })}`);
      expect(figures.lost).toBe(0);
      process.kill(-second.child.pid!, 'SIGINT');
      expect(await second.exited).toBe(0);
    } finally {
      await receiver.close();
    }
  }, 400_000);
});
